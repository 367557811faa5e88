#!/usr/bin/env python3
"""Line chart (SVG) of the per-epoch validation loss and validation metric that `mlsd train`
records in a model file, with the epoch each one would keep: what early stopping on a metric
(`--valid-metric`) changes against early stopping on the loss.

    mlsd train --model fm --train a9a.train --valid a9a.valid --out a9a-fm-curves.json --k 8 \\
        --epochs 12 --valid-metric roc_auc -q
    python3 bench/early_stopping_chart.py a9a-fm-curves.json \\
        --json bench/results/early_stopping_a9a.json --svg docs/img/early_stopping_a9a.svg

The model file must be JSON (`--out NAME.json`) and trained without `--patience`, so that every
epoch is recorded. `--json` keeps the two curves (not the weights). No third-party module: the
SVG is written by hand, as bench/train_chart.py does.
"""
import argparse
import json
import sys
from xml.sax.saxutils import escape

LOSS_COLOR, METRIC_COLOR = "#2b6cb0", "#c05621"


def panel(values, title, lower_is_better, color, x0, y0, w, h):
    """One line panel: the values per epoch, the best one ringed and named."""
    best = min(range(len(values)), key=lambda i: values[i]) if lower_is_better else max(
        range(len(values)), key=lambda i: values[i])
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.01 or 1.0
    lo, hi = lo - pad, hi + pad
    n = len(values)

    def px(i):
        return x0 + (w * i / (n - 1) if n > 1 else w / 2)

    def py(v):
        return y0 + h - h * (v - lo) / (hi - lo)

    out = [f'<text x="{x0}" y="{y0 - 24}" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#ccc"/>']
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        out.append(f'<text x="{x0 - 6}" y="{py(v) + 4:.1f}" text-anchor="end" '
                   f'font-size="11">{v:.4f}</text>')
    for i in range(n):
        out.append(f'<text x="{px(i):.1f}" y="{y0 + h + 15}" text-anchor="middle" '
                   f'font-size="11">{i + 1}</text>')
    points = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
    out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
    for i, v in enumerate(values):
        out.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>')
    out.append(f'<circle cx="{px(best):.1f}" cy="{py(values[best]):.1f}" r="8" fill="none" '
               f'stroke="#000" stroke-width="1.5"/>')
    out.append(f'<text x="{x0}" y="{y0 - 8}" font-size="12">best: epoch {best + 1} '
               f'({values[best]:.5f})</text>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 32}" text-anchor="middle" '
               f'font-size="11">epoch</text>')
    return out, best


def chart(curves, caption):
    width, height = 900, 320
    left, gap, top, h = 80, 90, 60, 180
    w = (width - left - gap - 30) / 2
    loss, b_loss = panel(curves["valid_loss"], "Validation log loss (lower is better)", True,
                         LOSS_COLOR, left, top, w, h)
    name = curves["valid_metric_name"]
    higher = curves["higher_is_better"]
    metric, b_metric = panel(curves["valid_metric"],
                             f"Validation {name} ({'higher' if higher else 'lower'} is better)",
                             not higher, METRIC_COLOR, left + w + gap, top, w, h)
    parts = loss + metric
    parts.append(f'<text x="{left}" y="{height - 12}" font-size="12">{escape(caption)}</text>')
    body = "\n".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="13">\n<rect width="100%" height="100%" '
            f'fill="#fff"/>\n{body}\n</svg>\n'), b_loss, b_metric


HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "accuracy": True, "r2": True,
                    "log_loss": False, "normalized_entropy": False, "brier_score": False,
                    "rmse": False, "mae": False}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_file", help="a JSON model file written by mlsd train --valid-metric")
    ap.add_argument("--svg", required=True, help="where to write the chart")
    ap.add_argument("--json", help="where to keep the two curves")
    args = ap.parse_args()
    try:
        with open(args.model_file, encoding="utf-8") as f:
            training = json.load(f)["training"]
        curves = {"valid_loss": training["valid_loss"],
                  "valid_metric_name": training["valid_metric"]["name"],
                  "valid_metric": training["valid_metric"]["values"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"early_stopping_chart: {args.model_file}: expected a JSON model file of mlsd "
                 f"train with --valid and --valid-metric ({e})")
    if training.get("stopped_early"):
        sys.exit(f"early_stopping_chart: {args.model_file}: trained with --patience; train "
                 "without it so that every epoch is recorded")
    if not curves["valid_loss"] or len(curves["valid_loss"]) != len(curves["valid_metric"]):
        sys.exit(f"early_stopping_chart: {args.model_file}: the two curves are empty or differ "
                 "in length")
    curves["higher_is_better"] = HIGHER_IS_BETTER.get(curves["valid_metric_name"], True)
    data = training.get("data", {})
    caption = (f"{data.get('file', '?')}: {data.get('rows', '?')} training rows, "
               f"{len(curves['valid_loss'])} epochs; a ring marks the epoch each figure keeps")
    svg, best_loss, best_metric = chart(curves, caption)
    with open(args.svg, "w", encoding="utf-8") as f:
        f.write(svg)
    curves["best_epoch_by_loss"] = best_loss + 1
    curves["best_epoch_by_metric"] = best_metric + 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(curves, f, indent=1)
            f.write("\n")
    print(f"early_stopping_chart: wrote {args.svg}; best epoch by loss {best_loss + 1}, "
          f"by {curves['valid_metric_name']} {best_metric + 1}")


if __name__ == "__main__":
    main()
