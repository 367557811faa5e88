#!/usr/bin/env python3
"""Learning-curve charts (SVG) and a table of final-epoch numbers from bench/learning_curves' JSON.

    learning_curves --out bench/results/learning_curves.json
    python3 bench/learning_curves.py bench/results/learning_curves.json --svg-dir docs/img

writes one chart per data set, docs/img/learning_curve_<data set>.svg (hand-written SVG line
charts, no plotting library), and prints a markdown table per data set: every model's numbers
after its last epoch, and the epoch at which its validation loss was lowest.

In each chart, a solid line with dots is a model (one colour per model, the same in every panel);
a dashed black line is a floor (on the click log: the ground truth's own log loss, which no model
can beat in expectation); a dotted grey line is a simple baseline (a constant prediction). A
baseline far outside the models' range is not drawn, and its value is given in the legend.
"""

import argparse
import json
import math
import os
import sys
from html import escape

# The house palette (bench/mips_report.py's colours, in the order the models come).
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

TITLES = {
    "a9a": "a9a (UCI Adult): train on a9a, validate on a9a.t",
    "synthetic_click_log": "Synthetic click log (data/synthetic_click_log.hpp)",
    "movielens": "MovieLens latest-small: ratings, seeded 90/10 split",
}

# Panels per data set: (what to read, y-axis label, True when lower is better).
# "valid_loss" / "train_loss" are the model's per-epoch lists; "metric:x" is valid_metrics[x].
PANELS = {
    "a9a": [("valid_loss", "log loss on a9a.t", True),
            ("metric:accuracy", "accuracy on a9a.t", False),
            ("train_loss", "progressive training log loss", True)],
    "synthetic_click_log": [("valid_loss", "validation log loss", True),
                            ("metric:roc_auc", "validation ROC-AUC", False),
                            ("train_loss", "progressive training log loss", True)],
    "movielens": [("metric:rmse", "validation RMSE", True),
                  ("metric:train_rmse", "progressive training RMSE", True)],
}

METRIC_NAMES = {"accuracy": "accuracy", "roc_auc": "ROC-AUC", "rmse": "RMSE",
                "train_rmse": "progressive train RMSE"}


def series(entry, key):
    """The per-epoch list (or a reference's single value) that `key` names, or None."""
    if key.startswith("metric:"):
        return entry.get("valid_metrics", {}).get(key[len("metric:"):])
    return entry.get(key)


def nice_step(span, count):
    """A step of 1, 2 or 5 times a power of ten giving about `count` intervals over `span`."""
    if span <= 0:
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def ticks(lo, hi, count=5):
    step = nice_step(hi - lo, count)
    first = math.floor(lo / step) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        if v >= lo - step * 1e-9:
            out.append(round(v, 10))
        v += step
    return out, step


def fmt_tick(v, step):
    """`v` with as many decimals as the tick step needs (0.025 needs three)."""
    exponent = math.floor(math.log10(step))
    extra = 1 if round(step / 10 ** exponent, 6) == 2.5 else 0
    return f"{v:.{max(0, -exponent + extra)}f}"


def panel_svg(x0, y0, w, h, label, models, references, key, epochs):
    """One line chart at (x0, y0) of size w × h (the plot area is inset for the axes)."""
    left, right, top, bottom = 56, 10, 22, 38
    pw, ph = w - left - right, h - top - bottom
    curves = [(i, m["name"], series(m, key)) for i, m in enumerate(models)]
    curves = [(i, n, s) for i, n, s in curves if s]
    values = [v for _, _, s in curves for v in s if v is not None and math.isfinite(v)]
    refs = []
    for r in references:
        v = series(r, key)
        if v is not None and not isinstance(v, list) and math.isfinite(v):
            refs.append((r, v))
    if not values:
        return "", []
    lo, hi = min(values), max(values)
    span = max(hi - lo, 1e-6)
    drawn, off_chart = [], []
    for r, v in refs:
        # A floor is always drawn (the distance to it is the point). A baseline within one span
        # of the models' range is drawn; a farther one would squash the curves into a sliver, so
        # it is only named in the legend.
        if r.get("kind") == "floor" or lo - span <= v <= hi + span:
            drawn.append((r, v))
            lo, hi = min(lo, v), max(hi, v)
        else:
            off_chart.append((r, v))
    pad = 0.06 * max(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    px = lambda e: x0 + left + (pw * (e - 1) / (epochs - 1) if epochs > 1 else pw / 2)
    py = lambda v: y0 + top + ph * (1 - (v - lo) / (hi - lo))

    parts = [f'<text x="{x0 + left}" y="{y0 + 14}" class="panel">{escape(label)}</text>',
             f'<rect x="{x0 + left}" y="{y0 + top}" width="{pw}" height="{ph}" fill="none" '
             'stroke="#999" stroke-width="1"/>']
    ys, ystep = ticks(lo, hi)
    for v in ys:
        y = py(v)
        parts.append(f'<line x1="{x0 + left}" y1="{y:.1f}" x2="{x0 + left + pw}" y2="{y:.1f}" '
                     'stroke="#e5e5e5" stroke-width="1"/>')
        parts.append(f'<text x="{x0 + left - 4}" y="{y + 4:.1f}" class="ytick">'
                     f'{fmt_tick(v, ystep)}</text>')
    xs, _ = ticks(1, epochs, min(epochs - 1, 6) if epochs > 1 else 1)
    for e in sorted({1} | {int(e) for e in xs if float(e).is_integer() and 1 <= e <= epochs}):
        x = px(e)
        parts.append(f'<line x1="{x:.1f}" y1="{y0 + top + ph}" x2="{x:.1f}" y2="{y0 + top + ph + 4}" '
                     'stroke="#999" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{y0 + top + ph + 16}" class="xtick">{int(e)}</text>')
    parts.append(f'<text x="{x0 + left + pw / 2:.1f}" y="{y0 + h - 4}" class="xtick">epoch</text>')
    for r, v in drawn:
        y = py(v)
        dash, color = ("6 4", "#222") if r.get("kind") == "floor" else ("2 3", "#888")
        parts.append(f'<line x1="{x0 + left}" y1="{y:.1f}" x2="{x0 + left + pw}" y2="{y:.1f}" '
                     f'stroke="{color}" stroke-width="1.5" stroke-dasharray="{dash}">'
                     f'<title>{escape(r["name"])}: {v:.4f}</title></line>')
    for i, name, s in curves:
        color = PALETTE[i % len(PALETTE)]
        pts = [(px(e + 1), py(v)) for e, v in enumerate(s) if v is not None and math.isfinite(v)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2">'
                     f'<title>{escape(name)}</title></polyline>')
        for (x, y), v in zip(pts, [v for v in s if v is not None and math.isfinite(v)]):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{color}">'
                         f'<title>{escape(name)}: {v:.4f}</title></circle>')
    return "\n".join(parts), [(r, v, label) for r, v in off_chart]


def chart(name, ds):
    """The SVG document of one data set: its panels side by side, a legend below."""
    panels = PANELS.get(name, [("valid_loss", "validation loss", True)])
    models, references = ds["models"], ds.get("references", [])
    epochs = max(len(m.get("valid_loss") or m.get("train_loss") or []) for m in models)
    pw, ph = 310, 250
    width = pw * len(panels) + 20
    parts, off = [], []
    title = TITLES.get(name, name)
    subtitle = (f"{ds.get('train_rows', '?'):,} training rows, {ds.get('valid_rows', '?'):,} "
                f"validation rows, one thread, seed fixed")
    parts.append(f'<text x="10" y="20" class="title">{escape(title)}</text>')
    parts.append(f'<text x="10" y="36">{escape(subtitle)}</text>')
    for k, (key, label, _) in enumerate(panels):
        svg, missing = panel_svg(10 + k * pw, 44, pw, ph, label, models, references, key, epochs)
        parts.append(svg)
        off += missing
    y = 44 + ph + 16
    x = 10
    entries = [(PALETTE[i % len(PALETTE)], "solid", m["name"]) for i, m in enumerate(models)]
    seen = set()
    for r in references:
        if r["name"] in seen:
            continue
        seen.add(r["name"])
        style = "floor" if r.get("kind") == "floor" else "baseline"
        notes = [f"{lbl}: {v:.4f}" for rr, v, lbl in off if rr is r]
        text = r["name"] + (f" (off the chart; {'; '.join(notes)})" if notes else "")
        entries.append(("#222" if style == "floor" else "#888", style, text))
    for color, style, text in entries:
        approx = 34 + 6.3 * len(text)
        if x + approx > width - 10 and x > 10:
            x, y = 10, y + 18
        if style == "solid":
            parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{color}" '
                         'stroke-width="2"/>')
            parts.append(f'<circle cx="{x + 12}" cy="{y - 4}" r="2.2" fill="{color}"/>')
        else:
            dash = "6 4" if style == "floor" else "2 3"
            parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{color}" '
                         f'stroke-width="1.5" stroke-dasharray="{dash}"/>')
        parts.append(f'<text x="{x + 30}" y="{y}">{escape(text)}</text>')
        x += approx + 14
    height = y + 12
    style = ("text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}"
             ".title{font-weight:bold;font-size:13px}.panel{font-weight:bold}"
             ".ytick{text-anchor:end;font-size:11px}.xtick{text-anchor:middle;font-size:11px}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n<style>{style}</style>\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")


def fmt(v):
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.4f}"


def table(name, ds):
    """A markdown table of each model's last-epoch numbers (and the references)."""
    metric_keys = []
    for m in ds["models"]:
        for k in m.get("valid_metrics", {}):
            if k not in metric_keys:
                metric_keys.append(k)
    # The squared loss is only a scaled RMSE²: MovieLens is read through its RMSE columns.
    has_loss = name != "movielens"
    primary = PANELS.get(name, [("valid_loss", "", True)])[0][0]
    best_name = "valid loss" if primary == "valid_loss" else f"valid {METRIC_NAMES.get(primary[7:], primary)}"
    head = ["model", "epochs"]
    head += ["train loss (progressive)", "valid loss"] if has_loss else []
    head += [f"valid {METRIC_NAMES.get(k, k)}" if k != "train_rmse" else METRIC_NAMES[k]
             for k in metric_keys]
    head.append(f"best epoch by {best_name} (value)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in ds["models"]:
        n = len(m["train_loss"])
        row = [m["name"], str(n)]
        if has_loss:
            row += [fmt(m["train_loss"][-1]), fmt(m["valid_loss"][-1])]
        row += [fmt((m.get("valid_metrics", {}).get(k) or [None])[-1]) for k in metric_keys]
        curve = series(m, primary)
        best = min(range(len(curve)), key=lambda i: curve[i])
        row.append(f"{best + 1} ({fmt(curve[best])})")
        lines.append("| " + " | ".join(row) + " |")
    for r in ds.get("references", []):
        row = [f"*{r['name']}*", ""]
        if has_loss:
            row += ["", fmt(r.get("valid_loss"))]
        row += [fmt(r.get("valid_metrics", {}).get(k)) for k in metric_keys]
        row.append("")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="the JSON document bench/learning_curves printed")
    parser.add_argument("--svg-dir", help="write learning_curve_<data set>.svg files here")
    args = parser.parse_args()
    with open(args.result, encoding="utf-8") as f:
        doc = json.load(f)
    print(f"Learning curves from `{doc.get('program', 'learning_curves')}` "
          f"{doc.get('arguments', '')} (mlsd {doc.get('mlsd_version', '?')}, seed "
          f"{doc.get('seed', '?')}, {doc.get('threads', 1)} thread).\n")
    for name, ds in doc["datasets"].items():
        print(f"### {TITLES.get(name, name)}\n")
        if not ds.get("available"):
            print(f"Left out: {ds.get('reason', 'not available')}.\n")
            continue
        print(table(name, ds) + "\n")
        if args.svg_dir:
            os.makedirs(args.svg_dir, exist_ok=True)
            path = os.path.join(args.svg_dir, f"learning_curve_{name}.svg")
            with open(path, "w", encoding="utf-8") as f:
                f.write(chart(name, ds))
            print(f"learning_curves: wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
