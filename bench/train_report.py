#!/usr/bin/env python3
"""Training speed of mlsd against libFM, xLearn and libffm on the synthetic click log.

Runs bench/train_bench (mlsd) and the peers on the same files from bench/make_click_log, with
hyper-parameters as equal as the tools allow, interleaving the repetitions (every repetition runs
every configuration once, in a shuffled order, so that machine noise hits all alike), and writes a
JSON result and a markdown table: median epoch time, validation log loss and peak RSS of each
configuration, and the ratios the issue sets as targets (of the medians over every repetition, and
also within each repetition, to show the machine's drift):

    FM  k=8 SGD       mlsd >= 1.5x faster than xLearn, >= 3x faster than libFM (1 thread),
                      mlsd 2 threads >= 1.7x faster than 1 thread (Hogwild, and the
                      deterministic mode: a copy of the model per thread, averaged per epoch)
    LR  FTRL          mlsd >= 1.5x faster than xLearn's FTRL (1 thread)
    FFM k=4 AdaGrad   mlsd >= 1.2x faster than libffm (1 thread), 2 threads faster than 1
    each at equal or better validation log loss (within --loss-tolerance).

    python3 bench/train_report.py --data /tmp/clicks --train-bench build/bench/train_bench \\
        --libfm /tmp/peers/libfm/bin/libFM --xlearn-train /tmp/peers/xlearn/build/xlearn_train \\
        --xlearn-predict /tmp/peers/xlearn/build/xlearn_predict \\
        --libffm-train /tmp/peers/libffm/ffm-train --repetitions 3 --epochs 3 \\
        --json bench/results/train_bench.json --markdown bench/results/train_bench.md

Peer binaries may also be given as environment variables (LIBFM, XLEARN_TRAIN, XLEARN_PREDICT,
LIBFFM_TRAIN, TRAIN_BENCH); a peer that is not given, or not found, is left out and said so.
With --make-data ROWS the data directory is first filled by bench/make_click_log (--make-click-log
or MAKE_CLICK_LOG gives its path).

How each tool's epoch time is taken:
- mlsd: train_bench's `epoch_seconds` (the trainer's clock, validation excluded);
- libFM: the `time_learn` column of its -rlog file (libFM's own per-iteration timer, which is
  *user CPU* time, getrusage; for this single-threaded program it is within noise of wall time);
- xLearn: the "Time cost" column it prints per epoch, with no -v (with -v that column includes the
  validation pass); its validation loss comes from xlearn_predict on the saved model;
- libffm: the cumulative `tr_time` column it prints (0.1 s resolution), differenced (its timer
  stops before the validation pass).
The median is taken over every epoch of every repetition (the first epoch included: none of the
tools has a warm-up that only the first epoch pays, apart from page faults on fresh memory).
Peak RSS is each child's ru_maxrss (os.wait4), in MiB.
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The hyper-parameters: one table, mapped onto each tool's flags below.
DEFAULTS = {
    "fm": {"k": 8, "learning_rate": 0.002, "l2": 1e-3, "init_stddev": 0.01, "xlearn_init_scale": 0.05},
    "lr": {"alpha": 0.05, "beta": 1.0, "l1": 1e-4, "l2": 1e-4},
    "ffm": {"k": 4, "learning_rate": 0.2, "l2": 2e-5, "normalize": True},
}

TARGETS = [
    # (name, numerator config, denominator config, at least, loss check against)
    ("FM k=8 SGD: xLearn / mlsd epoch time (1 thread)", "xlearn/fm/1", "mlsd/fm/1", 1.5, "xlearn/fm/1"),
    ("FM k=8 SGD: libFM / mlsd epoch time (1 thread)", "libfm/fm/1", "mlsd/fm/1", 3.0, "libfm/fm/1"),
    ("FM k=8 SGD: mlsd 1 thread / N threads (Hogwild)", "mlsd/fm/1", "mlsd/fm/N", 1.7, None),
    # The same with train_options::mode = deterministic: each thread trains its own copy on its
    # shard of the epoch, the copies are averaged after it. Its loss is checked against xLearn's.
    ("FM k=8 SGD: mlsd 1 thread / N threads (deterministic mode)", "mlsd/fm/1",
     "mlsd-deterministic/fm/N", 1.7, "xlearn/fm/1"),
    ("LR FTRL: xLearn / mlsd epoch time (1 thread)", "xlearn/lr/1", "mlsd/lr/1", 1.5, "xlearn/lr/1"),
    ("FFM k=4: libffm / mlsd epoch time (1 thread)", "libffm/ffm/1", "mlsd/ffm/1", 1.2, "libffm/ffm/1"),
    ("FFM k=4: mlsd 1 thread / N threads", "mlsd/ffm/1", "mlsd/ffm/N", 1.0, None),
    # Ablations, not targets of issue 5: what Hogwild's private hot rows (train_options::hot_row_bytes)
    # buy, against plain Hogwild (--hot-row-bytes 0) on the same threads.
    ("ablation, FM: plain Hogwild / with private hot rows (N threads)", "mlsd-plain-hogwild/fm/N",
     "mlsd/fm/N", 1.0, None),
    ("ablation, FFM: plain Hogwild / with private hot rows (N threads)", "mlsd-plain-hogwild/ffm/N",
     "mlsd/ffm/N", 1.0, None),
]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(cmd, log_path, env=None, cwd=None):
    """Runs `cmd`, its stdout and stderr into `log_path`; returns (exit code, wall s, peak RSS MiB, text)."""
    start = time.monotonic()
    with open(log_path, "wb") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    with open(log_path, "rb") as log:
        text = ANSI.sub("", log.read().decode("utf-8", "replace"))
    return p.returncode, wall, usage.ru_maxrss / 1024.0, text


def log_loss_of_probabilities(pred_path, valid_svm):
    """Mean log loss of the probabilities in `pred_path` (one per line) against `valid_svm`'s labels."""
    eps = 1e-15
    total, n = 0.0, 0
    with open(pred_path) as preds, open(valid_svm) as data:
        for p_line, d_line in zip(preds, data):
            p = min(max(float(p_line.split()[0]), eps), 1.0 - eps)
            y = float(d_line.split(None, 1)[0]) > 0
            total -= math.log(p if y else 1.0 - p)
            n += 1
    return total / n if n else float("nan")


class Tools:
    def __init__(self, args):
        def pick(flag, env):
            path = flag or os.environ.get(env)
            if path and shutil.which(path):
                return shutil.which(path)
            return None

        self.train_bench = pick(args.train_bench, "TRAIN_BENCH")
        self.libfm = pick(args.libfm, "LIBFM")
        self.xlearn_train = pick(args.xlearn_train, "XLEARN_TRAIN")
        self.xlearn_predict = pick(args.xlearn_predict, "XLEARN_PREDICT")
        self.libffm = pick(args.libffm_train, "LIBFFM_TRAIN")
        self.missing = []
        for name, path in (("mlsd train_bench (TRAIN_BENCH)", self.train_bench),
                           ("libFM (LIBFM)", self.libfm),
                           ("xLearn (XLEARN_TRAIN)", self.xlearn_train),
                           ("xlearn_predict (XLEARN_PREDICT)", self.xlearn_predict),
                           ("libffm (LIBFFM_TRAIN)", self.libffm)):
            if path is None:
                self.missing.append(name)


def configurations(tools, data, epochs, threads, work):
    """Every (key, runner) pair; a runner returns a dict of per-epoch seconds, loss and RSS."""
    train_svm, valid_svm = os.path.join(data, "train.svm"), os.path.join(data, "valid.svm")
    train_ffm, valid_ffm = os.path.join(data, "train.ffm"), os.path.join(data, "valid.ffm")
    fm, lr, ffm = DEFAULTS["fm"], DEFAULTS["lr"], DEFAULTS["ffm"]
    out = []

    if tools.train_bench:
        def mlsd(model, t, extra=(), suffix=""):
            def runner(tag):
                train, valid = (train_ffm, valid_ffm) if model == "ffm" else (train_svm, valid_svm)
                cmd = [tools.train_bench, "--model", model, "--train", train, "--valid", valid,
                       "--threads", str(t), "--epochs", str(epochs)]
                if model == "fm":
                    cmd += ["--k", str(fm["k"]), "--learning-rate", str(fm["learning_rate"]),
                            "--l2", str(fm["l2"]), "--init-stddev", str(fm["init_stddev"])]
                elif model == "lr":
                    cmd += ["--alpha", str(lr["alpha"]), "--beta", str(lr["beta"]),
                            "--l1", str(lr["l1"]), "--l2", str(lr["l2"])]
                else:
                    cmd += ["--k", str(ffm["k"]), "--learning-rate", str(ffm["learning_rate"]),
                            "--l2", str(ffm["l2"])] + ([] if ffm["normalize"] else ["--no-norm"])
                cmd += list(extra)
                log = os.path.join(work, f"mlsd_{model}_{t}{suffix}_{tag}.log")
                code, wall, rss, text = run(cmd, log)
                if code != 0:
                    raise RuntimeError(f"{' '.join(cmd)} failed ({code}); see {log}")
                doc = json.loads(text[text.index("{"):])
                return {"epoch_seconds": doc["epoch_seconds"], "valid_log_loss": doc["final_valid_log_loss"],
                        "peak_rss_mib": rss, "load_seconds": doc["load_seconds"], "wall_seconds": wall,
                        "command": cmd}
            return runner
        for model in ("fm", "lr", "ffm"):
            out.append((f"mlsd/{model}/1", mlsd(model, 1)))
        out.append(("mlsd/fm/N", mlsd("fm", threads)))
        out.append(("mlsd/ffm/N", mlsd("ffm", threads)))
        out.append(("mlsd-deterministic/fm/N", mlsd("fm", threads, ["--mode", "deterministic"], "_det")))
        out.append(("mlsd-plain-hogwild/fm/N", mlsd("fm", threads, ["--hot-row-bytes", "0"], "_plain")))
        out.append(("mlsd-plain-hogwild/ffm/N", mlsd("ffm", threads, ["--hot-row-bytes", "0"], "_plain")))

    if tools.libfm:
        def libfm_runner(tag):
            rlog = os.path.join(work, f"libfm_{tag}.rlog")
            pred = os.path.join(work, f"libfm_{tag}.pred")
            cmd = [tools.libfm, "-task", "c", "-method", "sgd", "-train", train_svm, "-test", valid_svm,
                   "-dim", f"1,1,{fm['k']}", "-learn_rate", str(fm["learning_rate"]),
                   "-regular", f"0,{fm['l2']},{fm['l2']}", "-init_stdev", str(fm["init_stddev"]),
                   "-iter", str(epochs), "-rlog", rlog, "-out", pred, "-seed", "1"]
            code, wall, rss, _ = run(cmd, os.path.join(work, f"libfm_{tag}.log"))
            if code != 0:
                raise RuntimeError(f"libFM failed ({code})")
            with open(rlog) as f:
                header = f.readline().split("\t")
                col = [h.strip() for h in header].index("time_learn")
                seconds = [float(line.split("\t")[col]) for line in f if line.strip()]
            return {"epoch_seconds": seconds, "valid_log_loss": log_loss_of_probabilities(pred, valid_svm),
                    "peak_rss_mib": rss, "wall_seconds": wall, "command": cmd}
        out.append(("libfm/fm/1", libfm_runner))

    if tools.xlearn_train:
        def xlearn(model, t):
            def runner(tag):
                model_path = os.path.join(work, f"xlearn_{model}_{t}_{tag}.model")
                cmd = [tools.xlearn_train, train_svm, "-s", "1" if model == "fm" else "0",
                       "-e", str(epochs), "--dis-es", "--no-norm", "--no-bin", "-nthread", str(t),
                       "-m", model_path, "-l", os.path.join(work, "xlearn_log")]
                if model == "fm":
                    cmd += ["-p", "sgd", "-k", str(fm["k"]), "-r", str(fm["learning_rate"]),
                            "-b", str(fm["l2"]), "-u", str(fm["xlearn_init_scale"])]
                else:
                    cmd += ["-p", "ftrl", "-alpha", str(lr["alpha"]), "-beta", str(lr["beta"]),
                            "-lambda_1", str(lr["l1"]), "-lambda_2", str(lr["l2"])]
                env = dict(os.environ)
                env.setdefault("USER", "bench")  # xLearn's log file name needs a user name
                if not env["USER"]:
                    env["USER"] = "bench"
                code, wall, rss, text = run(cmd, os.path.join(work, f"xlearn_{model}_{t}_{tag}.log"), env)
                if code != 0:
                    raise RuntimeError(f"xLearn failed ({code}): {text[-500:]}")
                seconds = [float(m.group(1)) for m in re.finditer(
                    r"^\[\s*\d+%\s*\]\s+\d+\s+\S+\s+([0-9.]+)\s*$", text, re.M)]
                loss = float("nan")
                if tools.xlearn_predict:
                    pred = model_path + ".pred"
                    pcmd = [tools.xlearn_predict, valid_svm, model_path, "-o", pred, "--sigmoid",
                            "--no-norm", "-nthread", "1", "-l", os.path.join(work, "xlearn_log")]
                    pcode, _, _, ptext = run(pcmd, pred + ".log", env)
                    if pcode != 0:
                        raise RuntimeError(f"xlearn_predict failed ({pcode}): {ptext[-500:]}")
                    loss = log_loss_of_probabilities(pred, valid_svm)
                    os.remove(pred)
                os.remove(model_path)
                return {"epoch_seconds": seconds, "valid_log_loss": loss, "peak_rss_mib": rss,
                        "wall_seconds": wall, "command": cmd}
            return runner
        out.append(("xlearn/fm/1", xlearn("fm", 1)))
        out.append(("xlearn/lr/1", xlearn("lr", 1)))
        out.append(("xlearn/fm/N", xlearn("fm", threads)))

    if tools.libffm:
        def libffm(t):
            def runner(tag):
                model_path = os.path.join(work, f"libffm_{t}_{tag}.model")
                cmd = [tools.libffm, "-k", str(ffm["k"]), "-t", str(epochs), "-r", str(ffm["learning_rate"]),
                       "-l", str(ffm["l2"]), "-s", str(t), "-p", valid_ffm]
                cmd += [] if ffm["normalize"] else ["--no-norm"]
                cmd += [train_ffm, model_path]
                code, wall, rss, text = run(cmd, os.path.join(work, f"libffm_{t}_{tag}.log"), cwd=work)  # its .bin caches go to the cwd
                if code != 0:
                    raise RuntimeError(f"libffm failed ({code}): {text[-500:]}")
                rows = [m.groups() for m in re.finditer(
                    r"^\s*(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$", text, re.M)]
                cumulative = [float(r[3]) for r in rows]
                seconds = [b - a for a, b in zip([0.0] + cumulative, cumulative)]
                os.remove(model_path)
                return {"epoch_seconds": seconds, "valid_log_loss": float(rows[-1][2]) if rows else float("nan"),
                        "peak_rss_mib": rss, "wall_seconds": wall, "command": cmd}
            return runner
        out.append(("libffm/ffm/1", libffm(1)))
        out.append(("libffm/ffm/N", libffm(threads)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--data", required=True, help="directory with train/valid .svm and .ffm files")
    parser.add_argument("--make-data", type=int, default=0, metavar="ROWS",
                        help="first write ROWS training rows (and ROWS/5 validation rows) into --data")
    parser.add_argument("--make-click-log", default=None, help="bench/make_click_log (or MAKE_CLICK_LOG)")
    parser.add_argument("--seed", type=int, default=1, help="data seed (with --make-data) and run-order seed")
    parser.add_argument("--train-bench", default=None)
    parser.add_argument("--libfm", default=None)
    parser.add_argument("--xlearn-train", default=None)
    parser.add_argument("--xlearn-predict", default=None)
    parser.add_argument("--libffm-train", default=None)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="N of the multi-thread runs")
    parser.add_argument("--loss-tolerance", type=float, default=0.002,
                        help="mlsd's log loss may exceed the peer's by this much and count as equal")
    parser.add_argument("--only", default=None, help="comma-separated configuration keys to run")
    parser.add_argument("--json", default=None, help="write the result here")
    parser.add_argument("--markdown", default=None, help="write the table here")
    args = parser.parse_args()

    if args.make_data:
        maker = args.make_click_log or os.environ.get("MAKE_CLICK_LOG")
        if not maker or not shutil.which(maker):
            sys.exit("train_report: --make-data needs --make-click-log or MAKE_CLICK_LOG")
        subprocess.run([shutil.which(maker), "--rows", str(args.make_data), "--valid-rows",
                        str(max(1, args.make_data // 5)), "--seed", str(args.seed), "--formats", "svm,ffm",
                        "--out", args.data], check=True, stdout=subprocess.DEVNULL)
    meta_path = os.path.join(args.data, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}

    tools = Tools(args)
    for name in tools.missing:
        print(f"train_report: {name} not given or not found: left out", file=sys.stderr)
    work = tempfile.mkdtemp(prefix="train_report_")
    configs = configurations(tools, args.data, args.epochs, args.threads, work)
    if args.only:
        keep = set(args.only.split(","))
        configs = [c for c in configs if c[0] in keep]
    results = {key: [] for key, _ in configs}
    order_rng = random.Random(args.seed)
    for rep in range(args.repetitions):
        order = list(configs)
        order_rng.shuffle(order)
        for key, runner in order:
            print(f"[{rep + 1}/{args.repetitions}] {key}", file=sys.stderr, flush=True)
            results[key].append(runner(f"r{rep}"))
    shutil.rmtree(work, ignore_errors=True)

    summary = {}
    for key, reps in results.items():
        epochs = [s for r in reps for s in r["epoch_seconds"]]
        summary[key] = {
            "median_epoch_seconds": statistics.median(epochs) if epochs else float("nan"),
            "epoch_seconds": [r["epoch_seconds"] for r in reps],
            "valid_log_loss": statistics.median(r["valid_log_loss"] for r in reps),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in reps),
            "repetitions": len(reps),
            "command": reps[0]["command"],
        }
    ratios = []
    for name, num, den, target, loss_peer in TARGETS:
        a, b = summary.get(num), summary.get(den)
        if a is None or b is None:
            ratios.append({"target": name, "ratio": None, "at_least": target, "met": None,
                           "note": "left out: " + ", ".join(k for k, v in ((num, a), (den, b)) if v is None)})
            continue
        ratio = a["median_epoch_seconds"] / b["median_epoch_seconds"]
        # The same ratio within each repetition (the medians of its epochs): both configurations
        # ran minutes apart at most, so this shows how far the machine's drift moves the ratio.
        per_rep = [statistics.median(x) / statistics.median(y)
                   for x, y in zip(a["epoch_seconds"], b["epoch_seconds"])]
        entry = {"target": name, "ratio": ratio, "per_repetition": per_rep, "at_least": target,
                 "met": ratio >= target}
        if loss_peer is not None and loss_peer not in summary:
            # Run with --only, or without that peer: the speed is measured, the loss is not checked.
            entry["met"] = None
            entry["note"] = f"speed {'reached' if ratio >= target else 'not reached'}; loss not checked ({loss_peer} not run)"
        elif loss_peer is not None:
            # `den` is the mlsd configuration, `loss_peer` the peer's: same data, same epochs.
            delta = b["valid_log_loss"] - summary[loss_peer]["valid_log_loss"]
            entry["log_loss_minus_peer"] = delta
            entry["loss_equal_or_better"] = delta <= args.loss_tolerance
            entry["met"] = entry["met"] and entry["loss_equal_or_better"]
        ratios.append(entry)

    doc = {"data": meta, "epochs": args.epochs, "repetitions": args.repetitions, "threads_N": args.threads,
           "hyper_parameters": DEFAULTS, "left_out": tools.missing, "configurations": summary,
           "targets": ratios, "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname()),
                                          "date": time.strftime("%Y-%m-%d %H:%M:%S")}}
    table = markdown(doc, args.threads)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return 0


def markdown(doc, threads):
    lines = []
    train = doc["data"].get("train", {})
    valid = doc["data"].get("valid", {})
    if train:
        lines.append(f"Data: {train.get('rows')} training rows, {valid.get('rows')} validation rows, "
                     f"39 fields hashed into 2^{doc['data'].get('hasher', {}).get('config', {}).get('bits')} "
                     f"buckets; true-probability log loss on validation {valid.get('true_log_loss', float('nan')):.4f}.")
        lines.append("")
    lines.append(f"{doc['epochs']} epochs × {doc['repetitions']} interleaved repetitions; median over all epochs.")
    lines.append("")
    lines.append("| configuration | threads | median epoch (s) | validation log loss | peak RSS (MiB) |")
    lines.append("| --- | --- | --- | --- | --- |")
    for key, s in doc["configurations"].items():
        tool, model, t = key.split("/")
        lines.append(f"| {tool} {model} | {threads if t == 'N' else t} | {s['median_epoch_seconds']:.3f} | "
                     f"{s['valid_log_loss']:.4f} | {s['peak_rss_mib']:.0f} |")
    lines.append("")
    lines.append("| target | ratio | per repetition | at least | log loss − peer | met |")
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for r in doc["targets"]:
        if r["ratio"] is None:
            lines.append(f"| {r['target']} | – | – | {r['at_least']} | – | {r['note']} |")
            continue
        delta = r.get("log_loss_minus_peer")
        per_rep = ", ".join(f"{x:.2f}" for x in r.get("per_repetition", []))
        met = r["note"] if r["met"] is None else "yes" if r["met"] else "no"
        lines.append(f"| {r['target']} | {r['ratio']:.2f} | {per_rep} | {r['at_least']} | "
                     f"{'' if delta is None else f'{delta:+.4f}'} | {met} |")
    if doc["left_out"]:
        lines.append("")
        lines.append("Left out (not given or not found): " + ", ".join(doc["left_out"]) + ".")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
