#!/usr/bin/env python3
"""How much recall@10 an int8 table with one symmetric scale per row can give on mips_bench's data.

    /usr/bin/python3 bench/int8_recall_bound.py --d 64 --queries 400

mips_bench's catalog: n = 1,000,000 rows and queries with N(0, 1) entries (other seeds than the
benchmark's, the same distribution). For each query the exact top 10 (float64 scores) is compared
with the top 10 of
- `scale max abs / 127`: the table quantised as include/mlsd/kernels/int8.hpp does (scale max |x| / 127,
  round to nearest), scored exactly in floating point against the float query: the recall that
  no int8 kernel with this table can exceed;
- the same with the query quantised as well (what mlsd_int8 computes);
- `least-squares scale`: each row's scale chosen among 0.80, 0.81, ..., 1.00 times max |x| / 127 to
  minimise its squared quantisation error (clipping the largest entries), scored in float.
Prints the recall@10 of each and the root-mean-square error of a row. Needs numpy (Debian's
python3-numpy); about a minute per run at d = 64 on 2 cores, 3 GB of memory.
"""
import argparse

import numpy as np


def top10(scores):
    """Indices of the 10 largest entries of each column of an n x q matrix, as sets."""
    idx = np.argpartition(-scores, 10, axis=0)[:10]
    return [set(idx[:, j]) for j in range(scores.shape[1])]


def recall(found, exact):
    return float(np.mean([len(a & b) / 10 for a, b in zip(found, exact)]))


def quantise(x, scale):
    inverse = np.where(scale > 0, 1.0 / np.where(scale > 0, scale, 1.0), 0.0)
    return np.clip(np.rint(x * inverse[:, None]), -127, 127) * scale[:, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--distribution", choices=("normal", "uniform"), default="normal",
                        help="entries of the table and the queries: N(0, 1) (the benchmark's) or "
                             "uniform on [-1, 1], whose rows use the 8-bit range more evenly")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    if args.distribution == "normal":
        x = rng.standard_normal((args.n, args.d), dtype=np.float32)
        q = rng.standard_normal((args.queries, args.d), dtype=np.float32)
    else:
        x = rng.uniform(-1.0, 1.0, (args.n, args.d)).astype(np.float32)
        q = rng.uniform(-1.0, 1.0, (args.queries, args.d)).astype(np.float32)
    exact = top10(x.astype(np.float64) @ q.T.astype(np.float64))
    max_abs = np.abs(x).max(axis=1)

    table = quantise(x, max_abs / 127).astype(np.float32)
    q_scale = np.abs(q).max(axis=1) / 127
    q_int8 = (np.rint(q / q_scale[:, None]) * q_scale[:, None]).astype(np.float32)
    rows = [("scale max abs / 127, float query", table, q),
            ("scale max abs / 127, int8 query", table, q_int8)]

    best_err = np.full(args.n, np.inf, dtype=np.float64)
    best = np.empty_like(x)
    for c in np.linspace(0.80, 1.00, 21):
        candidate = quantise(x, max_abs * c / 127).astype(np.float32)
        err = ((candidate - x) ** 2).sum(axis=1, dtype=np.float64)
        better = err < best_err
        best[better] = candidate[better]
        best_err[better] = err[better]
    rows.append(("least-squares scale, float query", best, q))

    print(f"n = {args.n:,}, d = {args.d}, {args.queries} queries, seed {args.seed}, {args.distribution} entries")
    print("| table | recall@10 | rms error of a row |")
    print("| --- | --- | --- |")
    for name, t, query in rows:
        rms = float(np.sqrt(((t - x) ** 2).sum(axis=1, dtype=np.float64).mean()))
        print(f"| {name} | {recall(top10(t @ query.T), exact):.4f} | {rms:.5f} |", flush=True)


if __name__ == "__main__":
    main()
