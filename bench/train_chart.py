#!/usr/bin/env python3
"""Bar chart (SVG) of a bench/train_report.py result: median epoch time per configuration.

    python3 bench/train_chart.py bench/results/train_bench.json --svg docs/img/train_bench.svg

One panel per model (FM k=8 SGD, LR FTRL, FFM k=4 AdaGrad), each with its own time axis. A bar is
the median over every epoch of every repetition (the figure the targets use); a tick on it marks
each single epoch, so that the spread (the machine's noise, the deterministic mode's first epoch,
which also copies the model) is visible. The label gives the median, the validation log loss and
the peak RSS. No third-party module: the SVG is written by hand.
"""
import argparse
import json
import sys
from xml.sax.saxutils import escape

PANELS = [("fm", "FM, k = 8, SGD"), ("lr", "Logistic regression, FTRL-Proximal"),
          ("ffm", "FFM, k = 4, AdaGrad")]
TOOLS = {"mlsd": "mlsd", "mlsd-deterministic": "mlsd deterministic",
         "mlsd-plain-hogwild": "mlsd plain Hogwild", "libfm": "libFM", "xlearn": "xLearn",
         "libffm": "libffm"}
MLSD_COLOR, PEER_COLOR = "#2b6cb0", "#a0a0a0"


def label(tool, threads, n):
    name = TOOLS.get(tool, tool)
    t = n if threads == "N" else int(threads)
    if tool == "mlsd" and t > 1:
        name += " Hogwild"
    return f"{name}, {t} thread{'s' if t > 1 else ''}"


def chart(doc):
    width, left, right = 900, 230, 250
    bar_h, gap, head = 18, 5, 34
    plot_w = width - left - right
    n = doc.get("threads_N", 2)
    parts, y = [], 10
    for model, title in PANELS:
        rows = [(k.split("/"), v) for k, v in doc["configurations"].items()
                if k.split("/")[1] == model]
        if not rows:
            continue
        rows.sort(key=lambda r: r[1]["median_epoch_seconds"])
        top = max(max(e for rep in v["epoch_seconds"] for e in rep) for _, v in rows)
        parts.append(f'<text x="10" y="{y + 18}" class="title">{escape(title)} — seconds per '
                     f'epoch (median; ticks: every epoch; lower is better)</text>')
        y += head
        for (tool, _, threads), v in rows:
            med = v["median_epoch_seconds"]
            w = max(1.0, plot_w * med / top)
            color = MLSD_COLOR if tool.startswith("mlsd") else PEER_COLOR
            parts.append(f'<text x="{left - 6}" y="{y + bar_h - 5}" class="cfg">'
                         f'{escape(label(tool, threads, n))}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                         f'<title>{med:.3f} s</title></rect>')
            for rep in v["epoch_seconds"]:
                for e in rep:
                    x = left + plot_w * e / top
                    parts.append(f'<line x1="{x:.1f}" y1="{y - 2}" x2="{x:.1f}" y2="{y + bar_h + 2}" '
                                 'stroke="#222" stroke-width="1"/>')
            parts.append(f'<text x="{left + plot_w + 8}" y="{y + bar_h - 5}">{med:.3f} s · loss '
                         f'{v["valid_log_loss"]:.4f} · {v["peak_rss_mib"]:.0f} MiB</text>')
            y += bar_h + gap
        y += 12
    height = y + 24
    data = doc.get("data", {}).get("train", {})
    note = (f"{data.get('rows', '?'):,} training rows; {doc['epochs']} epochs × "
            f"{doc['repetitions']} interleaved repetitions; run ended {doc['machine']['date']}")
    parts.append(f'<text x="10" y="{height - 10}" class="note">{escape(note)}</text>')
    style = ("text{font-family:Helvetica,Arial,sans-serif;font-size:12px;fill:#222}"
             ".title{font-weight:bold;font-size:13px}.cfg{text-anchor:end}.note{fill:#555}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n<style>{style}</style>\n'
            '<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="the JSON that bench/train_report.py --json wrote")
    parser.add_argument("--svg", required=True, help="write the chart here")
    args = parser.parse_args()
    with open(args.result, encoding="utf-8") as f:
        doc = json.load(f)
    if not doc.get("configurations"):
        sys.exit(f"train_chart: {args.result}: no configurations (not a train_report result?)")
    with open(args.svg, "w", encoding="utf-8") as f:
        f.write(chart(doc))
    print(f"train_chart: wrote {args.svg}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
