#!/usr/bin/env python3
"""mlsd's metrics against scikit-learn's, through `mlsd metrics`.

    tests/evaluation/sklearn_agreement.py path/to/mlsd WORK_DIR

Generates random and adversarial cases (all ties, constant scores, a single positive, no
positive, k > n, many ties, scores as probabilities and as margins, graded relevance, slices),
writes each as CSV, runs `mlsd metrics`, and compares with scikit-learn's roc_auc_score,
average_precision_score, log_loss, brier_score_loss and ndcg_score (mean over groups, with k):
they must agree to 1e-9 (relative to max(1, |value|)).

Where mlsd's definition differs on purpose (docs/slices-and-streams.md, "Agreement with
scikit-learn"), the difference is checked to be exactly the documented one and printed as
EXPLAINED; any other difference fails the test. Without numpy or scikit-learn the script prints
MLSD_TEST_SKIPPED and exits 0.

Scores are float32 values (mlsd's metrics take float scores), written so that they read back
exactly; scikit-learn gets the same values as float64, so both compute in double.
"""
import json
import math
import os
import subprocess
import sys

try:
    import warnings

    import numpy as np
    import sklearn
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        log_loss,
        ndcg_score,
        roc_auc_score,
    )
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"MLSD_TEST_SKIPPED: scikit-learn is not available to {sys.executable} ({e})")
    sys.exit(0)

TOLERANCE = 1e-9
# mlsd clips probabilities to [eps, 1 - eps] with eps = 2^-23 (float32's epsilon), which is
# scikit-learn's eps="auto" for float32 predictions; scikit-learn is given the clipped float64
# values, so the comparison does not depend on scikit-learn's version of the clipping.
FLOAT32_EPS = float(np.finfo(np.float32).eps)


class Checker:
    def __init__(self):
        self.checks = 0
        self.failures = []
        self.explained = []

    def close(self, case, name, ours, theirs):
        self.checks += 1
        if ours is None or not math.isfinite(theirs):
            self.failures.append(f"{case}: {name}: mlsd {ours}, scikit-learn {theirs}")
            return
        if abs(ours - theirs) > TOLERANCE * max(1.0, abs(theirs)):
            self.failures.append(
                f"{case}: {name}: mlsd {ours!r}, scikit-learn {theirs!r} "
                f"(difference {ours - theirs:.3g})"
            )

    def fail(self, case, message):
        self.checks += 1
        self.failures.append(f"{case}: {message}")

    def explain(self, case, message):
        self.checks += 1
        self.explained.append(f"{case}: {message}")


def f32(values):
    return np.asarray(values, dtype=np.float32)


def text(v):
    """Text that reads back as exactly the float32 value v (as a double, then a float)."""
    return repr(float(v))


def run_mlsd(mlsd, path, k=None, threshold=None):
    cmd = [mlsd, "metrics", "--input", path]
    if k is not None:
        cmd += ["--k", str(k)]
    if threshold is not None:
        cmd += ["--threshold", str(threshold)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def write_csv(path, labels, scores, groups=None, slices=None):
    with open(path, "w") as f:
        header = ["label", "score"]
        if groups is not None:
            header.append("group")
        if slices is not None:
            header.append("slice")
        f.write(",".join(header) + "\n")
        for i, (y, s) in enumerate(zip(labels, scores)):
            row = [str(int(y)) if float(y).is_integer() else repr(float(y)), text(s)]
            if groups is not None:
                row.append(groups[i])
            if slices is not None:
                row.append(slices[i])
            f.write(",".join(row) + "\n")


def sk_or_none(fn, *args, **kwargs):
    """scikit-learn's value, or None when it raises (e.g. ROC-AUC of one class)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(fn(*args, **kwargs))
        except ValueError:
            return None


def compare_classification(chk, case, report, labels, scores):
    """The binary classification metrics of one set of rows (a file or a slice)."""
    y = (np.asarray(labels) > 0).astype(np.int64)
    s = f32(scores).astype(np.float64)
    undefined = report.get("undefined", {})
    positives, negatives = int(y.sum()), int(len(y) - y.sum())

    auc = sk_or_none(roc_auc_score, y, s)
    if auc is None:
        # scikit-learn raises for one class; mlsd reports null with the reason.
        if report["roc_auc"] is None and "only one class" in undefined.get("roc_auc", ""):
            chk.explain(case, "roc_auc: one class: scikit-learn raises, mlsd null + reason")
        else:
            chk.fail(case, f"roc_auc: scikit-learn raises, mlsd {report['roc_auc']}")
    else:
        chk.close(case, "roc_auc", report["roc_auc"], auc)

    if positives == 0:
        # scikit-learn 1.2 warns and returns 0 (older versions NaN); mlsd: undefined (recall 0/0).
        if report["average_precision"] is None and "average_precision" in undefined:
            chk.explain(case, "average_precision: no positive: scikit-learn 0 or NaN, mlsd null")
        else:
            chk.fail(case, f"average_precision with no positive: mlsd {report['average_precision']}")
    else:
        chk.close(case, "average_precision", report["average_precision"],
                  sk_or_none(average_precision_score, y, s))

    probabilities = bool(np.all((s >= 0) & (s <= 1)))
    if report["scores_are_probabilities"] != probabilities:
        chk.fail(case, f"scores_are_probabilities is {report['scores_are_probabilities']}")
        return
    if not probabilities:
        for name in ("log_loss", "brier_score"):
            if report[name] is None and "not probabilities" in undefined.get(name, ""):
                chk.explain(case, f"{name}: margins: no value in mlsd (scikit-learn raises)")
            else:
                chk.fail(case, f"{name} of margins: mlsd {report[name]}")
        return
    clipped = np.clip(s, FLOAT32_EPS, 1.0 - FLOAT32_EPS)
    chk.close(case, "log_loss", report["log_loss"], sk_or_none(log_loss, y, clipped, labels=[0, 1]))
    chk.close(case, "brier_score", report["brier_score"],
              sk_or_none(brier_score_loss, y, s, pos_label=1))


def compare_ndcg(chk, case, report, labels, scores, groups, k):
    """Mean nDCG@k over the groups. mlsd skips (and counts) groups without a relevant item;
    scikit-learn's ndcg_score counts them as 0: both means are checked."""
    per_group = {}
    for y, s, g in zip(labels, scores, groups):
        per_group.setdefault(g, ([], []))
        per_group[g][0].append(float(y))
        per_group[g][1].append(float(np.float32(s)))
    with_relevant, without = [], 0
    every = []
    for rel, sc in per_group.values():
        v = float(ndcg_score(np.asarray([rel]), np.asarray([sc]), k=k))
        every.append(v)
        if max(rel) > 0:
            with_relevant.append(v)
        else:
            without += 1
            if v != 0.0:
                chk.fail(case, f"scikit-learn's nDCG of a group without relevant item is {v}")
    ranking = report["ranking"]
    if ranking["groups_without_relevant"] != without:
        chk.fail(case, f"groups_without_relevant {ranking['groups_without_relevant']}, want {without}")
    if not with_relevant:
        if ranking["ndcg_at_k"] is None:
            chk.explain(case, "ndcg_at_k: no group with a relevant item: mlsd null, scikit-learn 0")
        else:
            chk.fail(case, f"ndcg_at_k without relevant items: mlsd {ranking['ndcg_at_k']}")
        return
    chk.close(case, f"ndcg_at_k (k={k}, {len(with_relevant)} groups)", ranking["ndcg_at_k"],
              sum(with_relevant) / len(with_relevant))
    if without:
        # The documented difference, exactly: scikit-learn's mean = mlsd's mean · n_rel / n_all.
        chk.close(case, "ndcg_at_k rescaled to scikit-learn's zero convention",
                  ranking["ndcg_at_k"] * len(with_relevant) / len(every), sum(every) / len(every))
        chk.explain(case, f"ndcg_at_k: {without} group(s) without a relevant item skipped by "
                          "mlsd, counted as 0 by scikit-learn")


def classification_cases(rng):
    n = 2000
    yield "random probabilities", rng.integers(0, 2, n), f32(rng.random(n))
    yield "many ties", rng.integers(0, 2, n), f32(rng.integers(0, 8, n) / 8.0)
    yield "all ties", rng.integers(0, 2, 500), f32(np.full(500, 0.25))
    yield "constant score 0 and 1 labels", np.array([0, 1] * 50), f32(np.zeros(100))
    one = np.zeros(300, dtype=np.int64)
    one[137] = 1
    yield "single positive", one, f32(rng.random(300))
    yield "single negative", 1 - one, f32(rng.random(300))
    yield "no positive", np.zeros(50, dtype=np.int64), f32(rng.random(50))
    yield "no negative", np.ones(50, dtype=np.int64), f32(rng.random(50))
    yield "margins", rng.integers(0, 2, n), f32(rng.normal(0, 3, n))
    yield "margins with ties", rng.integers(0, 2, n), f32(rng.integers(-3, 4, n))
    p = rng.random(n)
    yield "calibrated probabilities", (rng.random(n) < p).astype(np.int64), f32(p)
    extreme = f32(rng.choice([0.0, 1.0, 1e-9, 1 - 1e-9, 0.5], n))
    yield "probabilities 0 and 1 (clipped)", rng.integers(0, 2, n), extreme
    yield "tiny", np.array([1, 0]), f32([0.5, 0.5])
    yield "-1/+1 labels", rng.choice([-1, 1], 500), f32(rng.random(500))


def ranking_cases(rng):
    def groups_of(sizes):
        return [f"q{g}" for g, size in enumerate(sizes) for _ in range(size)]

    sizes = rng.integers(2, 16, 200)
    n = int(sizes.sum())
    yield "ranking random binary", rng.integers(0, 2, n), f32(rng.random(n)), groups_of(sizes), 5
    yield "ranking k > n", rng.integers(0, 2, n), f32(rng.random(n)), groups_of(sizes), 50
    yield "ranking k = 1", rng.integers(0, 2, n), f32(rng.random(n)), groups_of(sizes), 1
    yield "ranking many ties", rng.integers(0, 2, n), f32(rng.integers(0, 3, n) / 4.0), \
        groups_of(sizes), 3
    yield "ranking all tied in each group", rng.integers(0, 2, n), f32(np.full(n, 0.5)), \
        groups_of(sizes), 4
    yield "ranking graded relevance", rng.integers(0, 5, n), f32(rng.random(n)), \
        groups_of(sizes), 10
    yield "ranking graded, ties, margins", rng.integers(0, 4, n), f32(rng.integers(-2, 3, n)), \
        groups_of(sizes), 7
    sparse = (rng.random(n) < 0.05).astype(np.int64)  # many groups without a relevant item
    yield "ranking rare relevance", sparse, f32(rng.random(n)), groups_of(sizes), 5
    yield "ranking no relevant item at all", np.zeros(30, dtype=np.int64), f32(rng.random(30)), \
        groups_of([3] * 10), 2


def main():
    if len(sys.argv) != 3 or not os.access(sys.argv[1], os.X_OK):
        print(f"usage: {sys.argv[0]} path/to/mlsd WORK_DIR", file=sys.stderr)
        return 2
    mlsd = os.path.abspath(sys.argv[1])
    work = sys.argv[2]
    os.makedirs(work, exist_ok=True)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    rng = np.random.default_rng(20131)
    chk = Checker()

    for i, (case, labels, scores) in enumerate(classification_cases(rng)):
        path = os.path.join(work, f"classification_{i}.csv")
        write_csv(path, labels, scores)
        compare_classification(chk, case, run_mlsd(mlsd, path), labels, scores)

    # Slices: every slice is checked as its own data set.
    n = 1500
    labels = rng.integers(0, 2, n)
    scores = f32(rng.random(n))
    slices = list(rng.choice(["de", "fr", "us", "jp"], n))
    slices[:5] = ["solo"] * 5
    labels[:5] = 1  # the "solo" slice has one class: ROC-AUC null there
    path = os.path.join(work, "slices.csv")
    write_csv(path, labels, scores, slices=slices)
    report = run_mlsd(mlsd, path)
    compare_classification(chk, "slices: overall", report, labels, scores)
    for key, part in report["slices"].items():
        mask = np.asarray([s == key for s in slices])
        part = dict(part, scores_are_probabilities=report["scores_are_probabilities"])
        compare_classification(chk, f"slice {key}", part, labels[mask], scores[mask])
    if list(report["slices"]) != sorted(set(slices)):
        chk.fail("slices", f"keys {list(report['slices'])}")

    for i, (case, labels, scores, groups, k) in enumerate(ranking_cases(rng)):
        path = os.path.join(work, f"ranking_{i}.csv")
        write_csv(path, labels, scores, groups=groups)
        report = run_mlsd(mlsd, path, k=k)
        compare_ndcg(chk, case, report, labels, scores, groups, k)
        if set(np.unique(labels)) <= {0, 1}:
            compare_classification(chk, case, report, labels, scores)

    for line in chk.explained:
        print(f"EXPLAINED {line}")
    for line in chk.failures:
        print(f"FAIL {line}")
    print(f"sklearn_agreement: {chk.checks} checks, {len(chk.explained)} explained differences, "
          f"{len(chk.failures)} failed")
    return 1 if chk.failures else 0


if __name__ == "__main__":
    sys.exit(main())
