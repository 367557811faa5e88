#!/usr/bin/env python3
"""ROC-AUC speed of mlsd against scikit-learn's roc_auc_score, on the same data, in the same run.

bench/auc_bench writes N generated scores and labels as raw float32 files once; then every
repetition times both, in a shuffled order (so that machine noise hits both alike):
- mlsd: `auc_bench --scores F --labels F --repetitions 1`, whose own clock covers
  `mlsd::evaluation::roc_auc_of` (every add, the sort and the pair count; reading the files is
  not timed);
- scikit-learn: `roc_auc_score(labels, scores)` in this process on the arrays read once with
  numpy.fromfile (float32, as written; the timer covers the call only, its input checks included).
It prints the medians, their ratio (the issue's target: scikit-learn / mlsd >= 5 at 10M scores),
and both AUCs, which must agree to 1e-9 (the script exits 1 otherwise).

    python3 bench/auc_report.py --auc-bench build/bench/auc_bench --n 10000000 \\
        --repetitions 5 --json bench/results/auc_bench.json --markdown bench/results/auc_bench.md

scikit-learn and numpy must be importable by the Python that runs the script (Debian's
python3-sklearn: run it with /usr/bin/python3 if another python3 comes first on PATH).
"""
import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 5.0
TOLERANCE = 1e-9


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--auc-bench", default=os.environ.get("AUC_BENCH", "build/bench/auc_bench"),
                    help="path of the auc_bench program (or $AUC_BENCH)")
    ap.add_argument("--n", type=int, default=10_000_000, help="number of scores (10M)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--data-dir", help="where the float32 files go (default: a temporary directory)")
    ap.add_argument("--json", help="write the result as JSON to this file")
    ap.add_argument("--markdown", help="write a markdown table to this file")
    args = ap.parse_args()

    try:
        import numpy as np
        import sklearn
        from sklearn.metrics import roc_auc_score
    except ImportError as e:
        sys.exit(f"auc_report.py: {e} (install python3-sklearn, run with /usr/bin/python3)")
    if not os.access(args.auc_bench, os.X_OK):
        sys.exit(f"auc_report.py: {args.auc_bench} is not an executable (build bench/auc_bench.cpp)")

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or tmp
        os.makedirs(data_dir, exist_ok=True)
        subprocess.run([args.auc_bench, "--n", str(args.n), "--seed", str(args.seed), "--write", data_dir,
                        "--repetitions", "1"], check=True, stdout=subprocess.DEVNULL)
        scores_file = os.path.join(data_dir, "scores.f32")
        labels_file = os.path.join(data_dir, "labels.f32")
        scores = np.fromfile(scores_file, dtype=np.float32)
        labels = np.fromfile(labels_file, dtype=np.float32)

        def run_mlsd():
            out = subprocess.run([args.auc_bench, "--scores", scores_file, "--labels", labels_file,
                                  "--repetitions", "1"], check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            return r["median_seconds"], r["auc"]

        def run_sklearn():
            start = time.perf_counter()
            auc = roc_auc_score(labels, scores)
            return time.perf_counter() - start, float(auc)

        times = {"mlsd": [], "scikit-learn": []}
        aucs = {}
        rng = random.Random(args.seed)
        for rep in range(args.repetitions):
            order = [("mlsd", run_mlsd), ("scikit-learn", run_sklearn)]
            rng.shuffle(order)
            for name, fn in order:
                seconds, auc = fn()
                times[name].append(seconds)
                aucs[name] = auc
            print(f"repetition {rep + 1}: mlsd {times['mlsd'][-1]:.3f} s, "
                  f"scikit-learn {times['scikit-learn'][-1]:.3f} s", file=sys.stderr)

    medians = {k: statistics.median(v) for k, v in times.items()}
    ratio = medians["scikit-learn"] / medians["mlsd"]
    difference = abs(aucs["mlsd"] - aucs["scikit-learn"])
    result = {
        "n": int(scores.size),
        "positives": int((labels > 0).sum()),
        "seed": args.seed,
        "repetitions": args.repetitions,
        "seconds": times,
        "median_seconds": medians,
        "ratio_sklearn_over_mlsd": ratio,
        "target_ratio": TARGET,
        "target_met": ratio >= TARGET,
        "auc": aucs,
        "auc_abs_difference": difference,
        "auc_agree": difference <= TOLERANCE,
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(f"ROC-AUC over {result['n']:,} float32 scores ({result['positives']:,} positives), "
                    f"median of {args.repetitions} interleaved repetitions "
                    f"(scikit-learn {sklearn.__version__}, numpy {np.__version__}).\n\n")
            f.write("| implementation | median seconds | AUC |\n| --- | --- | --- |\n")
            for name in ("mlsd", "scikit-learn"):
                f.write(f"| {name} | {medians[name]:.3f} | {aucs[name]:.15f} |\n")
            f.write(f"\nscikit-learn / mlsd: **{ratio:.1f}x** (target >= {TARGET:g}x: "
                    f"{'met' if ratio >= TARGET else 'not met'}); |AUC difference| = {difference:.2e} "
                    f"(must be <= {TOLERANCE:g}).\n")
    if difference > TOLERANCE:
        print(f"auc_report.py: the AUCs differ by {difference:.3e} > {TOLERANCE:g}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
