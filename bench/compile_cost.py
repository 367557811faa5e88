#!/usr/bin/env python3
"""Measures what including mlsd costs at compile time, against including only its dependencies.

Usage:
    python3 bench/compile_cost.py [REPO] [--compiler CXX ...] [--reps 15] [--march-native]
                                  [--all-headers] [--max-ratio 1.5] [--json FILE] [--markdown]

For each compiler (by default g++ and clang++-14, those found on PATH), times the front end
(`-std=c++20 -fsyntax-only`: preprocessing, parsing, semantic analysis and template
instantiation, no code generation) of one-line translation units:

- `baseline`: only mlsd's dependencies, in the order mlsd includes them: `<xsimd/xsimd.hpp>`,
  `<Eigen/Dense>`, `<nlohmann/json.hpp>`, `<fast_float/fast_float.h>`, `<xxhash.h>` (with
  `XXH_INLINE_ALL`, as mlsd includes it);
- `<mlsd/mlsd.hpp>`, the umbrella of everything mlsd offers but the data step (`<mlsd/data.hpp>`,
  measured with the other umbrellas);
- for information: every other umbrella header `include/mlsd/<name>.hpp` (found by globbing, so
  new stages are picked up), each dependency header alone, the baseline followed by
  `<mlsd/mlsd.hpp>` (what mlsd adds to a file that already uses its dependencies), an empty file
  (the compiler's start-up cost), and with --all-headers every public header under
  `include/mlsd/` alone.

Each repetition compiles every file once, one after the other, starting from a different file in
each repetition, so that drift of the machine's speed affects all files alike; one untimed
warm-up pass comes first. Time is wall-clock time (`time.perf_counter` around
`subprocess.run`), and each file's figure is the median over the repetitions. The check is
median(`<mlsd/mlsd.hpp>`) / median(`baseline`) <= --max-ratio for every compiler; the script
exits with status 1 and says which compiler failed otherwise.

Output: a table on stdout (markdown with --markdown); --json FILE also writes every raw time, the
medians, the compiler versions, the dependencies' versions and the machine. REPO defaults to the
repository this script is in. Run it on an otherwise idle machine, one run at a time.

Python 3 standard library only.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_COMPILERS = ["g++", "clang++-14"]
DEFAULT_SYSTEM_INCLUDES = ["/usr/include/eigen3"]
# mlsd's dependencies, in the order mlsd includes them (xsimd first: mlsd/kernels/arch.hpp wraps
# it in a GCC warning workaround, so it must be the first to include it).
DEPENDENCY_HEADERS = ["xsimd/xsimd.hpp", "Eigen/Dense", "nlohmann/json.hpp",
                      "fast_float/fast_float.h", "xxhash.h"]
# mlsd compiles xxHash inline (mlsd/data/detail/xxh3.hpp), so the baseline includes it that way too.
HEADER_PREAMBLE = {"xxhash.h": "#define XXH_INLINE_ALL\n"}
MLSD = "mlsd/mlsd.hpp"
BASELINE = "baseline"
BASELINE_PLUS_MLSD = "baseline + mlsd"
EMPTY = "empty"
VERSION_MACROS = re.compile(
    r"#define (EIGEN_(?:WORLD|MAJOR|MINOR)_VERSION|XSIMD_VERSION_(?:MAJOR|MINOR|PATCH)"
    r"|NLOHMANN_JSON_VERSION_(?:MAJOR|MINOR|PATCH)|MLSD_VERSION_(?:MAJOR|MINOR|PATCH)) (\d+)")


def includes(*headers):
    return "".join(f"{HEADER_PREAMBLE.get(h, '')}#include <{h}>\n" for h in headers)


def translation_units(repo, all_headers):
    """[(name, kind, source)] in display order. kind: what the row is, for the tables."""
    include_dir = os.path.join(repo, "include")
    umbrellas = sorted(os.path.relpath(p, include_dir).replace(os.sep, "/")
                       for p in glob.glob(os.path.join(include_dir, "mlsd", "*.hpp")))
    if MLSD not in umbrellas:
        sys.exit(f"compile_cost: {os.path.join(include_dir, MLSD)} not found; pass the "
                 "repository's root as REPO")
    units = [(EMPTY, "start-up", "")]
    units += [(f"<{h}>", "dependency", includes(h)) for h in DEPENDENCY_HEADERS]
    units.append((BASELINE, "baseline", includes(*DEPENDENCY_HEADERS)))
    units.append((f"<{MLSD}>", "mlsd", includes(MLSD)))
    units.append((BASELINE_PLUS_MLSD, "baseline + mlsd", includes(*DEPENDENCY_HEADERS, MLSD)))
    units += [(f"<{u}>", "umbrella", includes(u)) for u in umbrellas if u != MLSD]
    if all_headers:
        headers = sorted(os.path.relpath(p, include_dir).replace(os.sep, "/")
                         for p in glob.glob(os.path.join(include_dir, "mlsd", "*", "**", "*.hpp"),
                                            recursive=True))
        units += [(f"<{h}>", "header", includes(h)) for h in headers]
    return units


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kwargs)


def compiler_version(cxx):
    out = run([cxx, "--version"])
    return out.stdout.splitlines()[0].strip() if out.returncode == 0 and out.stdout else "?"


def library_versions(cxx, flags, path):
    """The versions of mlsd and its dependencies as the compiler sees them (`-E -dM`)."""
    out = run([cxx, *flags, "-E", "-dM", path])
    found = dict(VERSION_MACROS.findall(out.stdout)) if out.returncode == 0 else {}

    def version(*keys):
        parts = [found.get(k) for k in keys]
        return ".".join(parts) if all(parts) else "?"

    return {
        "mlsd": version("MLSD_VERSION_MAJOR", "MLSD_VERSION_MINOR", "MLSD_VERSION_PATCH"),
        "eigen": version("EIGEN_WORLD_VERSION", "EIGEN_MAJOR_VERSION", "EIGEN_MINOR_VERSION"),
        "xsimd": version("XSIMD_VERSION_MAJOR", "XSIMD_VERSION_MINOR", "XSIMD_VERSION_PATCH"),
        "nlohmann_json": version("NLOHMANN_JSON_VERSION_MAJOR", "NLOHMANN_JSON_VERSION_MINOR",
                                 "NLOHMANN_JSON_VERSION_PATCH"),
    }


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = None
    return {"cpu_model": model, "cores": os.cpu_count(), "usable_cores": usable,
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


def loadavg():
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def repo_commit(repo):
    out = run(["git", "-C", repo, "describe", "--always", "--dirty", "--abbrev=12"])
    return out.stdout.strip() if out.returncode == 0 else None


def fmt_ms(ms):
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def measure(compilers, units, flags, reps, warmup, workdir):
    """{cxx: {name: [seconds per repetition]}}; exits on the first failed compilation."""
    paths = []
    for i, (_, _, source) in enumerate(units):
        path = os.path.join(workdir, f"tu{i:03d}.cpp")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        paths.append(path)
    times = {cxx: {name: [] for name, _, _ in units} for cxx in compilers}
    for rep in range(-warmup, reps):
        if rep >= 0:
            print(f"compile_cost: repetition {rep + 1}/{reps}", file=sys.stderr)
        for cxx in compilers:
            # Start each repetition from a different file: no file always follows the same one.
            start = rep % len(units)
            for i in list(range(start, len(units))) + list(range(start)):
                cmd = [cxx, *flags, paths[i]]
                t0 = time.perf_counter()
                out = run(cmd)
                elapsed = time.perf_counter() - t0
                if out.returncode != 0:
                    sys.exit(f"compile_cost: {units[i][0]} does not compile with {cxx}:\n"
                             f"$ {' '.join(cmd)}\n{out.stderr}")
                if rep >= 0:
                    times[cxx][units[i][0]].append(elapsed)
    return times


def summarize(times, units):
    """{cxx: {name: median ms}} and {cxx: ratio mlsd / baseline}."""
    medians = {cxx: {name: statistics.median(t) * 1e3 for name, t in per.items()}
               for cxx, per in times.items()}
    ratios = {cxx: m[f"<{MLSD}>"] / m[BASELINE] for cxx, m in medians.items()}
    return medians, ratios


def table_rows(units, compilers, medians):
    """[(file, kind, [(ms, ratio to baseline) per compiler])]."""
    rows = []
    for name, kind, _ in units:
        rows.append((name, kind, [(medians[c][name], medians[c][name] / medians[c][BASELINE])
                                  for c in compilers]))
    return rows


def plain_table(units, compilers, medians, reps):
    head = ["file", "what"]
    for c in compilers:
        head += [f"{c} ms", "× baseline"]
    body = []
    for name, kind, cells in table_rows(units, compilers, medians):
        line = [name, kind]
        for ms, ratio in cells:
            line += [fmt_ms(ms), f"{ratio:.2f}"]
        body.append(line)
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]

    def fmt(r):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))

    out = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body]
    out.append(f"\nmedian wall time of {reps} repetitions of the front end (-fsyntax-only), ms")
    return "\n".join(out)


def markdown_table(units, compilers, medians, reps):
    head = "| translation unit includes | what |" + "".join(
        f" {c} median ms | {c} × baseline |" for c in compilers)
    out = [head, "|---|---|" + "---:|---:|" * len(compilers)]
    for name, kind, cells in table_rows(units, compilers, medians):
        shown = "(nothing)" if name == EMPTY else (
            "`" + name + "`" if name.startswith("<") else
            "all of mlsd's dependencies" if name == BASELINE else
            f"all of mlsd's dependencies, then `<{MLSD}>`")
        strong = name in (BASELINE, f"<{MLSD}>")
        row = f"| {'**' + shown + '**' if strong else shown} | {kind} |"
        for ms, ratio in cells:
            row += f" {fmt_ms(ms)} | {ratio:.2f}× |"
        out.append(row)
    out.append("")
    out.append(f"Median wall time of {reps} repetitions of `-fsyntax-only`, in ms; "
               "\"× baseline\": this row's median / the baseline's median, same compiler.")
    return "\n".join(out)


def verdict_lines(compilers, medians, ratios, max_ratio, markdown):
    q = "`" if markdown else ""
    out = []
    for c in compilers:
        added = medians[c][BASELINE_PLUS_MLSD] / medians[c][BASELINE]
        out.append(f"{'- ' if markdown else ''}{c}: {q}<{MLSD}>{q} / baseline = {ratios[c]:.2f} "
                   f"({'within' if ratios[c] <= max_ratio else 'OVER'} the limit {max_ratio}); "
                   f"for information, (baseline + {q}<{MLSD}>{q}) / baseline = {added:.2f}")
    return out


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", default=here,
                        help="the mlsd repository's root (default: the one this script is in)")
    parser.add_argument("--compiler", action="append", dest="compilers", metavar="CXX",
                        help="compiler to time (repeatable; default: g++ and clang++-14, those "
                             "found on PATH)")
    parser.add_argument("--reps", type=int, default=15, help="timed repetitions (default 15)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed passes over all files before timing (default 1)")
    parser.add_argument("--march-native", action="store_true",
                        help="add -march=native (off by default: what a portable build sees)")
    parser.add_argument("--system-include", action="append", metavar="DIR",
                        help="system include directory of a dependency (repeatable; default: "
                             + ", ".join(DEFAULT_SYSTEM_INCLUDES) + ")")
    parser.add_argument("--all-headers", action="store_true",
                        help="also time every public header under include/mlsd/ alone")
    parser.add_argument("--max-ratio", type=float, default=1.5,
                        help="fail if median(<mlsd/mlsd.hpp>) / median(baseline) exceeds this "
                             "for any compiler (default 1.5)")
    parser.add_argument("--json", metavar="FILE", help="write raw times, medians and context")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table as markdown, for docs/benchmarks.md")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")

    repo = os.path.abspath(args.repo)
    if args.compilers:
        compilers = args.compilers
        missing = [c for c in compilers if shutil.which(c) is None]
        if missing:
            sys.exit(f"compile_cost: compiler not found: {', '.join(missing)}")
    else:
        compilers = [c for c in DEFAULT_COMPILERS if shutil.which(c)]
        for c in DEFAULT_COMPILERS:
            if c not in compilers:
                print(f"compile_cost: {c} not found on PATH; skipped", file=sys.stderr)
        if not compilers:
            sys.exit("compile_cost: neither g++ nor clang++-14 found; use --compiler CXX")
    system_includes = args.system_include or DEFAULT_SYSTEM_INCLUDES
    flags = ["-std=c++20", "-fsyntax-only", "-I" + os.path.join(repo, "include")]
    flags += ["-isystem" + d for d in system_includes]
    if args.march_native:
        flags.append("-march=native")

    units = translation_units(repo, args.all_headers)
    load_before = loadavg()
    with tempfile.TemporaryDirectory(prefix="mlsd_compile_cost_") as workdir:
        times = measure(compilers, units, flags, args.reps, args.warmup, workdir)
        probe = os.path.join(workdir, "versions.cpp")
        with open(probe, "w", encoding="utf-8") as f:
            f.write(includes(*DEPENDENCY_HEADERS, MLSD))
        versions = {c: library_versions(c, [x for x in flags if x != "-fsyntax-only"], probe)
                    for c in compilers}
    load_after = loadavg()
    medians, ratios = summarize(times, units)
    failed = [c for c in compilers if ratios[c] > args.max_ratio]

    if args.markdown:
        print(markdown_table(units, compilers, medians, args.reps))
    else:
        print(plain_table(units, compilers, medians, args.reps))
    print()
    for line in verdict_lines(compilers, medians, ratios, args.max_ratio, args.markdown):
        print(line)

    if args.json:
        result = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
            "repo_commit": repo_commit(repo),
            "machine": machine(),
            "loadavg_before_after": [load_before, load_after],
            # The repository's path is a property of the machine, not of the measurement.
            "flags": [f.replace(repo, "<repo>") for f in flags],
            "reps": args.reps,
            "warmup": args.warmup,
            "max_ratio": args.max_ratio,
            "files": [{"name": n, "kind": k, "source": s} for n, k, s in units],
            "compilers": {
                c: {
                    "version": compiler_version(c),
                    "libraries": versions[c],
                    "seconds": times[c],
                    "median_ms": medians[c],
                    "ratio_mlsd_to_baseline": ratios[c],
                    "ratio_baseline_plus_mlsd_to_baseline":
                        medians[c][BASELINE_PLUS_MLSD] / medians[c][BASELINE],
                    "within_limit": ratios[c] <= args.max_ratio,
                } for c in compilers
            },
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
        print(f"compile_cost: wrote {args.json}", file=sys.stderr)

    if failed:
        sys.exit(f"compile_cost: FAILED: <{MLSD}> costs more than {args.max_ratio}× its "
                 "dependencies' headers with " + ", ".join(
                     f"{c} ({ratios[c]:.2f}×)" for c in failed))


if __name__ == "__main__":
    main()
