#!/usr/bin/env python3
"""Parse throughput of the LIBSVM source against a newline scan, from bench/parse_bench's JSON.

Run the benchmark with repetitions, interleaved so that machine noise hits both alike, then pass
its JSON here:

    ./build/bench/parse_bench --benchmark_repetitions=9 \
        --benchmark_enable_random_interleaving=true \
        --benchmark_format=json > bench/results/parse_bench.json
    python3 bench/parse_report.py bench/results/parse_bench.json [--max-ratio 8]

Prints a markdown table: the median wall time and speed (MB/s, 10^6 bytes per second) of each
benchmark, the ratio of mlsd's time to the newline scan's, and the parser's peak resident memory
beside the file's size. With --max-ratio, exits 1 if the ratio exceeds it (the issue's target:
parsing at no less than 1/8 of the newline scan's speed, a ratio of at most 8).
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict

MLSD = "parse_libsvm/mlsd"
SCAN = "parse_libsvm/newline_scan"
ABLATION = "parse_libsvm/fast_float_only"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="parse_bench --benchmark_format=json output")
    parser.add_argument("--max-ratio", type=float, default=None)
    args = parser.parse_args()
    with open(args.json) as f:
        doc = json.load(f)
    times, speeds, extra = defaultdict(list), defaultdict(list), defaultdict(dict)
    for b in doc["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        name = b["run_name"].removesuffix("/real_time")
        times[name].append(b["real_time"] * scale)
        speeds[name].append(b["bytes_per_second"] / 1e6)
        for key in ("max_rss_MiB", "file_MiB"):
            if key in b:
                extra[name][key] = max(extra[name].get(key, 0.0), b[key])
    missing = [n for n in (MLSD, SCAN) if n not in times]
    if missing:
        sys.exit(f"parse_report: {', '.join(missing)} not in {args.json}")
    print("| benchmark | repetitions | median time (ms) | median speed (MB/s) |")
    print("| --- | --- | --- | --- |")
    for name in (MLSD, ABLATION, SCAN):
        if name not in times:
            continue
        print(f"| `{name}` | {len(times[name])} | {statistics.median(times[name]):.1f} | "
              f"{statistics.median(speeds[name]):.0f} |")
    ratio = statistics.median(times[MLSD]) / statistics.median(times[SCAN])
    print(f"\nmlsd / newline_scan time: {ratio:.2f} (target: at most 8)")
    if ABLATION in times:
        print(f"fast_float_only / newline_scan time: "
              f"{statistics.median(times[ABLATION]) / statistics.median(times[SCAN]):.2f}")
    if "max_rss_MiB" in extra[MLSD]:
        print(f"peak resident memory {extra[MLSD]['max_rss_MiB']:.1f} MiB while streaming a "
              f"{extra[MLSD]['file_MiB']:.1f} MiB file")
    context = doc.get("context", {})
    print(f"\nmachine: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz, "
          f"{context.get('date')}")
    if args.max_ratio is not None and ratio > args.max_ratio:
        print(f"FAILED: ratio {ratio:.2f} > {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
