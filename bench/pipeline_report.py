#!/usr/bin/env python3
"""Ratios of composed to hand-written pipelines from bench/pipeline_bench's JSON output.

Run the benchmark with repetitions, interleaved so that machine noise hits both variants alike,
then pass its JSON here:

    ./build/bench/pipeline_bench --benchmark_repetitions=15 \
        --benchmark_enable_random_interleaving=true \
        --benchmark_format=json > bench/results/pipeline_bench.json
    python3 bench/pipeline_report.py bench/results/pipeline_bench.json [--max-ratio 1.03]

Prints a markdown table of the median wall time of every benchmark and the ratio
composed / hand_written per case and catalog size. With --max-ratio, exits 1 if a ratio exceeds
it.
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict


def medians(doc):
    """Median real time (ns) per benchmark name, from the raw repetitions."""
    times = defaultdict(list)
    for b in doc["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        times[b["run_name"]].append(b["real_time"] * scale)
    return {name: (statistics.median(v), len(v)) for name, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file")
    parser.add_argument("--max-ratio", type=float, default=None)
    args = parser.parse_args()
    with open(args.json_file) as f:
        doc = json.load(f)
    med = medians(doc)
    rows = []
    worst = 0.0
    for name in sorted(med):
        case, variant, n = name.rsplit("/", 2)
        if variant != "composed":
            continue
        other = f"{case}/hand_written/{n}"
        if other not in med:
            continue
        (c, reps), (h, _) = med[name], med[other]
        ratio = c / h
        worst = max(worst, ratio)
        rows.append((case, int(n), c, h, ratio, reps))
    ctx = doc.get("context", {})
    print(f"machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
          f"run {ctx.get('date', '?')}")
    print()
    print("| case | catalog n | composed (median) | hand-written (median) | composed / hand-written | repetitions |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for case, n, c, h, ratio, reps in sorted(rows):
        print(f"| `{case}` | {n:,} | {c / 1e3:,.1f} µs | {h / 1e3:,.1f} µs | {ratio:.3f} | {reps} |")
    if args.max_ratio is not None and worst > args.max_ratio:
        print(f"\nFAIL: worst ratio {worst:.3f} exceeds {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
