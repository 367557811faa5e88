#!/usr/bin/env bash
# Renders a sample evaluation report in headless Chromium and checks that it displays:
#
#   tests/evaluation/render_report.sh path/to/report_page WORK_DIR
#
# 1. report_page writes WORK_DIR/page/report.html (and its JSON and SVG files);
# 2. the HTML is self-contained: no <script>, no reference to another file or host;
# 3. Chromium (Debian's `chromium`, or $CHROMIUM) takes a screenshot: it must not be blank (the
#    PNG is decoded with Python's zlib alone: enough non-white pixels, and pixels of the first
#    series' colour, #1f77b4, where the curves are);
# 4. Chromium loads the page again with logging on and dumps the DOM: no console message at all
#    (the page has no script, so any message is an error: a blocked or missing resource, a parse
#    error), and the DOM holds the 5 figures (inline <svg>) and every section.
#
# Each Chromium run is killed after 60 s (`timeout`, which signals the whole process group).
# $CHROMIUM and $PYTHON name the programs (default: chromium and python3, found on PATH); without
# them the test prints MLSD_TEST_SKIPPED and exits 0 (CTest marks it skipped). Exit status 0 when every check passes, 1 when one fails, 2 for a usage error.
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ]; then
  echo "usage: $0 path/to/report_page WORK_DIR" >&2
  exit 2
fi
REPORT_PAGE=$1
WORK=$2
CHROMIUM=${CHROMIUM:-chromium}
PYTHON=${PYTHON:-python3}
TIME_LIMIT=60

if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
  echo "MLSD_TEST_SKIPPED: $CHROMIUM is not installed (Debian: apt-get install chromium)"
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "MLSD_TEST_SKIPPED: $PYTHON is not installed"
  exit 0
fi

rm -rf "$WORK"
mkdir -p "$WORK" || exit 2
WORK=$(cd "$WORK" && pwd)
PAGE="$WORK/page/report.html"

if ! "$REPORT_PAGE" "$WORK/page" >"$WORK/report_page.log" 2>&1; then
  echo "FAIL: report_page did not write the page:" >&2
  cat "$WORK/report_page.log" >&2
  exit 1
fi

# Chromium flags: --no-sandbox because CI runs as root; a profile of its own in WORK so that no
# user profile is read or written; no first-run work, extensions or background networking.
chromium_run() {
  timeout --kill-after=5 "$TIME_LIMIT" "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$WORK/profile" --no-first-run --disable-extensions \
    --disable-background-networking --hide-scrollbars "$@"
}

chromium_run --window-size=1100,2300 --screenshot="$WORK/screenshot.png" "file://$PAGE" \
  >"$WORK/screenshot.log" 2>&1
status=$?
if [ $status -eq 124 ] || [ $status -eq 137 ]; then
  echo "FAIL: chromium did not take the screenshot within $TIME_LIMIT s" >&2
  exit 1
elif [ $status -ne 0 ]; then
  echo "FAIL: chromium --screenshot exited with status $status:" >&2
  tail -20 "$WORK/screenshot.log" >&2
  exit 1
fi

chromium_run --enable-logging=stderr --v=0 --dump-dom "file://$PAGE" \
  >"$WORK/dom.html" 2>"$WORK/console.log"
status=$?
if [ $status -eq 124 ] || [ $status -eq 137 ]; then
  echo "FAIL: chromium did not dump the DOM within $TIME_LIMIT s" >&2
  exit 1
elif [ $status -ne 0 ]; then
  echo "FAIL: chromium --dump-dom exited with status $status:" >&2
  tail -20 "$WORK/console.log" >&2
  exit 1
fi

"$PYTHON" - "$PAGE" "$WORK/screenshot.png" "$WORK/dom.html" "$WORK/console.log" <<'EOF'
import re
import struct
import sys
import zlib

page_path, png_path, dom_path, console_path = sys.argv[1:5]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def decode_png(path):
    """(width, height, channels, rows) of an 8-bit RGB or RGBA PNG, unfiltered (PNG spec, 9)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, width = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace != 0:
                raise ValueError("unsupported PNG: depth %d, colour type %d, interlace %d"
                                 % (depth, colour, interlace))
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if width is None:
        raise ValueError("no IHDR chunk")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            raise ValueError("bad PNG filter type %d in row %d" % (kind, y))
        rows.append(line)
        prev = line
    return width, height, channels, rows


# The page itself: self-contained.
with open(page_path, encoding="utf-8") as f:
    page = f.read()
check("<script" not in page.lower(), "the page has no <script>")
external = re.findall(r'(?:src|href)\s*=\s*"(?!#|data:)([^"]*)"', page)
check(not external, "the page references no other file or host (found %s)" % external[:3])
check(page.count("<svg ") == 5, "the page holds 5 inline SVG figures (found %d)"
      % page.count("<svg "))

# The screenshot: not blank, and the curves are drawn.
try:
    width, height, channels, rows = decode_png(png_path)
    total = width * height
    non_white = 0
    series_colour = 0
    for line in rows:
        for i in range(0, len(line), channels):
            r, g, b = line[i], line[i + 1], line[i + 2]
            if r < 235 or g < 235 or b < 235:
                non_white += 1
            if abs(r - 0x1F) < 40 and abs(g - 0x77) < 40 and abs(b - 0xB4) < 40:
                series_colour += 1
    print("     screenshot %dx%d: %d non-white pixels (%.1f%%), %d of the series colour"
          % (width, height, non_white, 100.0 * non_white / total, series_colour))
    check(non_white > total // 50, "the screenshot is not blank (over 2% non-white pixels)")
    check(series_colour > 2000, "the screenshot shows the curves (over 2000 pixels of #1f77b4)")
except (OSError, ValueError, zlib.error) as e:
    check(False, "the screenshot decodes as a PNG (%s)" % e)

# The console: the page has no script, so any message is an error.
with open(console_path, encoding="utf-8", errors="replace") as f:
    console = [l.rstrip() for l in f if ":CONSOLE" in l]
for line in console:
    print("     console: " + line)
check(not console, "no console message (found %d)" % len(console))

# The DOM Chromium built: every figure and section is there.
with open(dom_path, encoding="utf-8", errors="replace") as f:
    dom = f.read()
check(dom.count("<svg") == 5, "the DOM holds 5 <svg> figures (found %d)" % dom.count("<svg"))
check(dom.count("<polyline") >= 5, "the DOM holds the curves' polylines")
check(dom.count("<figcaption>") == 5, "the DOM holds 5 figure captions")
for title in ["Data", "Metrics", "ROC curve", "Precision-recall curve", "Cumulative gain", "Lift",
              "Reliability diagram", "Metrics per device", "About this page"]:
    check("<h2>%s</h2>" % title in dom, "the DOM has the section '%s'" % title)
check("AUC = 0." in dom and "AP = 0." in dom, "the legends give AUC and AP")
check("undefined: only one class" in dom, "an undefined metric reads 'undefined: reason'")
check("&lt;b&gt;not bold&lt;/b&gt;" in dom and "<b>" not in dom, "text is escaped")

sys.exit(1 if failures else 0)
EOF
