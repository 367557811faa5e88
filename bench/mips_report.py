#!/usr/bin/env python3
"""Turns the JSON output of bench/mips_bench into a markdown table and an SVG bar chart.

Usage:
    python3 bench/mips_report.py RUN.json [RUN2.json ...] [--svg docs/img/mips_bench.svg]
                                 [--no-targets]

Each RUN.json is what `mips_bench --benchmark_format=json` prints or what
`--benchmark_out=RUN.json` writes. Only the `_median` aggregate rows are used (each benchmark runs
5 repetitions). Given several runs of the same command, the table shows the median over the runs
of each benchmark's median time, and each target check shows the ratio of every run (the ratio of
two benchmarks of the same run, which shared the machine's conditions) and their median.
The markdown (machine, results table, target checks) goes to stdout.

Python 3 standard library only.
"""

import argparse
import json
import re
import statistics
import sys
from xml.sax.saxutils import escape

FLOOR = "floor"
FP32 = "mlsd_fp32"
INT8 = "mlsd_int8"
RESCORED = "mlsd_int8_rescored"
ONE = "mips_top10"
BATCH = "mips_top10_batch64"

# Display order of the implementations and of the cases.
FLOOR2 = "floor_2threads"
FP32_2 = "mlsd_fp32_2threads"
NO_PREFETCH = "mlsd_fp32_no_prefetch"
IMPL_ORDER = [FLOOR, FLOOR2, FP32, NO_PREFETCH, FP32_2, INT8, RESCORED, "hnswlib", "faiss",
              "faiss_1thread"]
CASE_ORDER = [ONE, BATCH]
CASE_TITLE = {ONE: "one query, top-10", BATCH: "64 queries, top-10 each"}
COLORS = {
    FLOOR: "#9e9e9e",
    FLOOR2: "#c8c8c8",
    FP32: "#1f5fa8",
    NO_PREFETCH: "#7f9cc0",
    FP32_2: "#0b3470",
    INT8: "#4f9bd9",
    RESCORED: "#8cc3ee",
    "hnswlib": "#d9822b",
    "faiss": "#c0392b",
    "faiss_1thread": "#e88a7d",
}

# Google Benchmark appends run options to a benchmark's name: /min_time:0.300, /repeats:5,
# /iterations:N, /real_time, /threads:N. They are stripped to get <case>/<impl>/<n>/<d>.
OPTION_SUFFIX = re.compile(r"/(min_time:[^/]*|repeats:\d+|iterations:\d+|real_time|manual_time"
                           r"|process_time|threads:\d+)")

TIME_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def load_run(path):
    """Returns (context, {(case, impl, n, d): row}) for the median aggregates of one run."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    rows = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type") != "aggregate" or b.get("aggregate_name") != "median":
            continue
        name = OPTION_SUFFIX.sub("", b.get("run_name", b["name"]))
        parts = name.split("/")
        if parts[0] == "fma_peak":
            continue  # the arithmetic ceiling: a counter, not a retrieval case
        if len(parts) != 4:
            print(f"mips_report: skipping unexpected benchmark name {b['name']!r}", file=sys.stderr)
            continue
        case, impl, n, d = parts
        threads = b.get("cpu_threads")
        if threads is None:
            m = re.search(r"threads=(\d+)", b.get("label", ""))
            threads = m.group(1) if m else None
        rows[(case, impl, int(n), int(d))] = {
            "case": case,
            "impl": impl,
            "n": int(n),
            "d": int(d),
            "ms": b["real_time"] * TIME_TO_MS[b.get("time_unit", "ns")],
            "recall": b.get("recall_at_10"),
            "shortlist": b.get("shortlist"),
            "threads": int(threads) if threads is not None else None,
        }
    if not rows:
        sys.exit(f"mips_report: no median rows in {path}; run mips_bench with its default "
                 "repetitions and --benchmark_format=json or --benchmark_out")
    return data.get("context", {}), rows


def combine(runs):
    """One row per benchmark present in every run; `ms` is the median over the runs."""
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    rows = []
    for key in keys:
        row = dict(runs[0][key])
        row["ms"] = statistics.median(r[key]["ms"] for r in runs)
        rows.append(row)
    return rows


def order_key(row):
    case = CASE_ORDER.index(row["case"]) if row["case"] in CASE_ORDER else len(CASE_ORDER)
    impl = IMPL_ORDER.index(row["impl"]) if row["impl"] in IMPL_ORDER else len(IMPL_ORDER)
    return (case, row["case"], row["d"], row["n"], impl, row["impl"])


def groups(rows):
    """{(case, n, d): {impl: row}} in display order."""
    out = {}
    for row in sorted(rows, key=order_key):
        out.setdefault((row["case"], row["n"], row["d"]), {})[row["impl"]] = row
    return out


def fmt_ms(ms):
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def fmt_ratio(x):
    return "" if x is None else f"{x:.2f}×"


def markdown_context(contexts):
    ctx = contexts[0]
    caches = ", ".join(
        f"L{c['level']} {c['type'].lower()} {c['size'] // 1024} KiB"
        + (f" ×{ctx.get('num_cpus', 0) // c['num_sharing']}" if c.get("num_sharing") else "")
        for c in ctx.get("caches", []))
    dates = ", ".join(c.get("date", "?") for c in contexts)
    lines = [
        f"- run{'s' if len(contexts) > 1 else ''}: {dates}",
        f"- host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs at "
        f"{ctx.get('mhz_per_cpu', '?')} MHz (as Google Benchmark reads them); caches: "
        f"{caches or '?'}",
    ]
    keys = ["compiler", "mlsd_version", "mlsd_arch", "mlsd_int8_vnni", "faiss",
            "faiss_default_threads", "openblas_config", "omp_wait_policy", "hnswlib"]
    extra = [f"{k}: {ctx[k]}" for k in keys if k in ctx]
    if extra:
        lines.append("- " + "; ".join(extra))
    return "\n".join(lines)


def markdown_table(rows, run_count):
    out = [
        "| case | d | impl | threads | median ms | × floor | mlsd_fp32 speed-up | "
        "mlsd_int8 speed-up | recall@10 |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (case, n, d), impls in groups(rows).items():
        floor, fp32, int8 = impls.get(FLOOR), impls.get(FP32), impls.get(INT8)
        for impl, r in impls.items():
            ratio = r["ms"] / floor["ms"] if floor else None
            vs_fp32 = r["ms"] / fp32["ms"] if fp32 and impl not in (FLOOR, FP32) else None
            vs_int8 = r["ms"] / int8["ms"] if int8 and impl not in (FLOOR, INT8) else None
            recall = "" if r["recall"] is None else f"{r['recall']:.4f}"
            if r["shortlist"]:
                recall += f" (shortlist {int(r['shortlist'])})"
            threads = "" if r["threads"] is None else str(r["threads"])
            out.append(f"| {case} | {d} | {impl} | {threads} | {fmt_ms(r['ms'])} | "
                       f"{fmt_ratio(ratio)} | {fmt_ratio(vs_fp32)} | {fmt_ratio(vs_int8)} | "
                       f"{recall} |")
    median_of = (f"the median over {run_count} runs of each run's median of 5 repetitions"
                 if run_count > 1 else "the median of 5 repetitions")
    return "\n".join(out) + "\n\n" + (
        f"n = {rows[0]['n']:,} rows. median ms: {median_of}. \"× floor\": median time / the "
        "floor's median time. \"mlsd_X speed-up\": this row's median time / mlsd_X's median time "
        "(above 1: mlsd_X is faster). threads: threads the implementation may use. recall@10: "
        "mean over 64 queries.")


def target_checks(runs):
    """The performance targets of the MIPS kernels. A ratio is taken within each run, where both
    benchmarks shared the machine's conditions; the check uses the median over the runs."""
    checks = []
    ds = sorted({key[3] for key in runs[0]})

    def ratio(case, slow, fast, d):
        """Per-run time(slow) / time(fast), for the runs that have both."""
        out = []
        for run in runs:
            a = [r for k, r in run.items() if k[0] == case and k[1] == slow and k[3] == d]
            b = [r for k, r in run.items() if k[0] == case and k[1] == fast and k[3] == d]
            if a and b:
                out.append(a[0]["ms"] / b[0]["ms"])
        return out

    def recall(case, impl, d):
        rows = [r for k, r in runs[0].items() if k[0] == case and k[1] == impl and k[3] == d]
        return rows[0] if rows and rows[0]["recall"] is not None else None

    def add(d, what, values, need, at_most=False, unit="×"):
        if not values:
            return
        m = statistics.median(values)
        ok = m <= need if at_most else m >= need
        shown = f"{m:.2f}{unit}"
        if len(values) > 1:
            shown += " (runs: " + ", ".join(f"{v:.2f}" for v in values) + ")"
        checks.append((d, what, shown, ok))

    for d in ds:
        add(d, "one query: mlsd_fp32 ≤ 1.15 × floor", ratio(ONE, FP32, FLOOR, d), 1.15,
            at_most=True, unit=" × floor")
        for peer, need in (("hnswlib", 1.4), ("faiss", 2.5), ("faiss_1thread", 2.5)):
            add(d, f"one query: mlsd_fp32 ≥ {need}× faster than {peer}",
                ratio(ONE, peer, FP32, d), need)
        add(d, "one query: mlsd_int8 ≥ 3× faster than mlsd_fp32", ratio(ONE, FP32, INT8, d), 3.0)
        r = recall(ONE, INT8, d)
        if r:
            checks.append((d, "one query: mlsd_int8 recall@10 ≥ 0.99", f"{r['recall']:.4f}",
                           r["recall"] >= 0.99))
        r = recall(ONE, RESCORED, d)
        if r:
            speed = ratio(ONE, FP32, RESCORED, d)
            extra = f", {statistics.median(speed):.2f}× faster than mlsd_fp32" if speed else ""
            checks.append((d, "one query: mlsd_int8_rescored recall@10 = 1.0",
                           f"{r['recall']:.4f} (shortlist {int(r['shortlist'] or 0)}{extra})",
                           r["recall"] >= 1.0))
        for peer in ("faiss", "faiss_1thread"):
            add(d, f"64 queries: mlsd_fp32 ≥ 2× faster than {peer}",
                ratio(BATCH, peer, FP32, d), 2.0)
        # mlsd's fastest exact path for a batch: the multi-query int8 scan with fp32 rescoring,
        # counted only when its recall@10 is 1.0 on all 64 queries.
        r = recall(BATCH, RESCORED, d)
        if r and r["recall"] >= 1.0:
            for peer in ("faiss", "faiss_1thread"):
                add(d, f"64 queries: mlsd_int8_rescored (recall@10 = 1.0) ≥ 2× faster than {peer}",
                    ratio(BATCH, peer, RESCORED, d), 2.0)
        # The same targets at equal thread counts: FAISS uses both cores for 64 queries (OpenMP
        # and OpenBLAS), so its default-threaded time is matched against mlsd on two threads.
        add(d, "one query: mlsd_fp32_2threads ≤ 1.15 × floor_2threads",
            ratio(ONE, FP32_2, FLOOR2, d), 1.15, at_most=True, unit=" × floor_2threads")
        for peer, need in (("hnswlib", 1.4), ("faiss", 2.5)):
            add(d, f"one query: mlsd_fp32_2threads ≥ {need}× faster than {peer}",
                ratio(ONE, peer, FP32_2, d), need)
        add(d, "64 queries: mlsd_fp32_2threads ≥ 2× faster than faiss (both 2 threads)",
            ratio(BATCH, "faiss", FP32_2, d), 2.0)
        add(d, "ablation: mlsd_fp32_no_prefetch / mlsd_fp32 (what the prefetch buys)",
            ratio(ONE, NO_PREFETCH, FP32, d), 1.0)
    out = ["| d | target | measured | met |", "|---:|---|---|---|"]
    for d, what, measured, ok in checks:
        out.append(f"| {d} | {what} | {measured} | {'yes' if ok else '**no**'} |")
    return "\n".join(out)


def svg_chart(rows):
    """Horizontal bars of median time per implementation, one panel per (case, d)."""
    width, left, right = 860, 200, 130
    bar_h, gap, head = 18, 5, 34
    plot_w = width - left - right
    parts, y = [], 10
    for (case, n, d), impls in groups(rows).items():
        # An outlier (e.g. hnswlib's 64 separate scans) would squash every other bar: when the
        # slowest is over 4× the next, the axis ends at 1.3× the next and the outlier's bar is
        # drawn to the edge with a break mark and its value.
        times = sorted((r["ms"] for r in impls.values()), reverse=True)
        top = times[0]
        if len(times) > 1 and times[0] > 4 * times[1]:
            top = 1.3 * times[1]
        title = f"{CASE_TITLE.get(case, case)} — n = {n:,}, d = {d} (median ms, lower is better)"
        parts.append(f'<text x="10" y="{y + 18}" class="title">{escape(title)}</text>')
        y += head
        y0 = y
        for impl, r in impls.items():
            broken = r["ms"] > top
            w = max(1.0, plot_w * min(r["ms"], top) / top)
            color = COLORS.get(impl, "#666666")
            label = impl + (f" ({r['threads']} thr)" if r["threads"] and r["threads"] > 1 else "")
            parts.append(f'<text x="{left - 6}" y="{y + bar_h - 5}" class="impl">'
                         f'{escape(label)}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                         f'fill="{color}"><title>{escape(impl)}: {r["ms"]:.3f} ms</title></rect>')
            if broken:
                bx = left + w - 24
                parts.append(f'<path d="M{bx:.1f},{y + bar_h + 2} l6,{-bar_h - 4} m6,{bar_h + 4} '
                             f'l6,{-bar_h - 4}" stroke="white" stroke-width="3" fill="none"/>')
            parts.append(f'<text x="{left + w + 5:.1f}" y="{y + bar_h - 5}">'
                         f'{fmt_ms(r["ms"])} ms{" (axis broken)" if broken else ""}</text>')
            y += bar_h + gap
        if FLOOR in impls:
            # The floor as a dashed line over the panel, to read every bar against it.
            x = left + plot_w * min(impls[FLOOR]["ms"], top) / top
            parts.append(f'<line x1="{x:.1f}" y1="{y0 - 4}" x2="{x:.1f}" y2="{y - gap + 4}" '
                         'stroke="#333" stroke-dasharray="4 3" stroke-width="1"/>')
        y += 12
    height = y + 4
    style = ("text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}"
             ".title{font-weight:bold;font-size:13px}.impl{text-anchor:end}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n<style>{style}</style>\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+",
                        help="JSON written by mips_bench (--benchmark_out or stdout); several "
                             "files are several runs of the same command")
    parser.add_argument("--svg", help="write the bar chart to this file")
    parser.add_argument("--no-targets", action="store_true", help="omit the target checks")
    args = parser.parse_args()

    loaded = [load_run(path) for path in args.results]
    contexts = [c for c, _ in loaded]
    runs = [r for _, r in loaded]
    rows = combine(runs)
    print("### Machine\n")
    print(markdown_context(contexts) + "\n")
    print("### Results\n")
    print(markdown_table(rows, len(runs)) + "\n")
    if not args.no_targets:
        print("### Targets\n")
        print(target_checks(runs) + "\n")
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as f:
            f.write(svg_chart(rows))
        print(f"mips_report: wrote {args.svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
