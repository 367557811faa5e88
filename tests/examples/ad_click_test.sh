#!/usr/bin/env bash
# End-to-end test of examples/ad_click_prediction: a small generated log through the whole
# pipeline (the report folder and its JSON), small Criteo TSV and LIBSVM folders, and the error
# cases (a missing or malformed --data file: exit 1 naming file:line; a bad command line: exit 2).
#
#   tests/examples/ad_click_test.sh <ad_click_prediction binary> <work dir>
set -uo pipefail

bin=${1:?usage: ad_click_test.sh <binary> <work dir>}
work=${2:?usage: ad_click_test.sh <binary> <work dir>}
rm -rf "$work"
mkdir -p "$work"
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect <status> <name> <args...>: runs the binary, checks its exit status; output in $work/<name>.*
expect() {
  local want=$1 name=$2
  shift 2
  "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local got=$?
  if [[ $got -ne $want ]]; then
    fail "$name: exit status $got, expected $want"
    sed 's/^/    /' "$work/$name.err" | tail -5
  fi
}

# contains <file> <text> <name>
contains() {
  grep -qF -- "$2" "$1" || fail "$3: '$1' does not contain '$2'"
}

# 1. The generated log, small: every report file, every metric, the model check.
expect 0 synthetic --rows 20000 --out "$work/report"
for f in report.json report.html roc.svg reliability.svg online_ne.svg pipeline.mmd \
  pipeline.dot serving.mmd serving.dot model.mlsd; do
  [[ -s $work/report/$f ]] || fail "synthetic: $f is missing or empty"
done
for key in '"normalized_entropy"' '"roc_auc"' '"log_loss"' '"calibration_ratio"' \
  '"expected_calibration_error"' '"ground_truth"' '"LR (FTRL)"' '"FM (k=8)"' '"FFM (k=4)"' \
  '"downsampling"' '"online"' '"slices_by_position"' '"identical_predictions"' '"capacity"'; do
  contains "$work/report/report.json" "$key" synthetic
done
contains "$work/synthetic.out" "ground truth (floor)" synthetic
contains "$work/synthetic.out" "the design meets its requirements" synthetic
contains "$work/report/report.html" "<svg" synthetic
if command -v python3 >/dev/null; then
  python3 - "$work/report/report.json" <<'PY' || fail "synthetic: report.json's numbers"
import json, math, sys
r = json.load(open(sys.argv[1]))
ne = {m["name"]: m["test"]["normalized_entropy"] for m in r["models"]}
assert all(0 < v < 1.2 and math.isfinite(v) for v in ne.values()), ne
assert r["model_file"]["identical_predictions"] == r["model_file"]["test_rows"]
assert 0.9 < r["downsampling"]["corrected"]["calibration_ratio"] < 1.1, r["downsampling"]
assert r["downsampling"]["uncorrected"]["calibration_ratio"] > 1.5, r["downsampling"]
PY
fi

# 2. A small Criteo TSV folder (written from the generator's output format) and a LIBSVM one.
mkdir -p "$work/criteo" "$work/libsvm"
row() { # label, then I1..I13 and C1..C26 derived from a number
  local l=$1 n=$2 line=$1 j
  for j in $(seq 1 13); do line+=$'\t'$(((n * j) % 7)); done
  for j in $(seq 1 26); do line+=$'\t'$(printf '%08x' $(((n * 31 + j * 17) % 13))); done
  printf '%s\n' "$line"
}
for i in $(seq 1 60); do row $((i % 3 == 0 ? 1 : 0)) "$i"; done >"$work/criteo/train.tsv"
for i in $(seq 61 100); do row $((i % 3 == 0 ? 1 : 0)) "$i"; done >"$work/criteo/test.tsv"
expect 0 criteo --data "$work/criteo" --bits 12 --out "$work/criteo_report"
contains "$work/criteo_report/report.json" '"criteo_tsv"' criteo
for i in $(seq 1 60); do echo "$((i % 3 == 0 ? 1 : -1)) $((i % 5 + 1)):1 $((i % 7 + 6)):0.5"; done \
  >"$work/libsvm/train"
for i in $(seq 1 40); do echo "$((i % 3 == 0 ? 1 : -1)) $((i % 5 + 1)):1 $((i % 7 + 6)):0.5"; done \
  >"$work/libsvm/test.svm"
expect 0 libsvm --data "$work/libsvm" --out "$work/libsvm_report"
contains "$work/libsvm.out" "FFM skipped" libsvm

# 3. Bad input: exit 1 with a message naming what is wrong.
expect 1 missing_dir --data "$work/no_such_dir" --out "$work/r1"
contains "$work/missing_dir.err" "no such directory" missing_dir
mkdir -p "$work/no_test"
cp "$work/criteo/train.tsv" "$work/no_test/"
expect 1 missing_test --data "$work/no_test" --out "$work/r2"
contains "$work/missing_test.err" "test.tsv is missing" missing_test
mkdir -p "$work/empty"
expect 1 no_files --data "$work/empty" --out "$work/r3"
contains "$work/no_files.err" "expected train.tsv and test.tsv" no_files
mkdir -p "$work/bad_criteo"
cp "$work/criteo/test.tsv" "$work/bad_criteo/"
{
  row 1 1
  row 0 2 | sed 's/\t3\t/\tx3\t/'
} >"$work/bad_criteo/train.tsv"
expect 1 malformed_criteo --data "$work/bad_criteo" --bits 12 --out "$work/r4"
contains "$work/malformed_criteo.err" "train.tsv:2:" malformed_criteo
mkdir -p "$work/bad_libsvm"
printf '1 1:1 2:1\n0 3:oops\n' >"$work/bad_libsvm/train"
cp "$work/libsvm/test.svm" "$work/bad_libsvm/"
expect 1 malformed_libsvm --data "$work/bad_libsvm" --out "$work/r5"
contains "$work/malformed_libsvm.err" "train:2:" malformed_libsvm

# 4. A bad command line: exit 2 with the usage.
expect 2 bad_rows --rows many
contains "$work/bad_rows.err" "usage:" bad_rows
expect 2 few_rows --rows 10
expect 2 unknown_flag --colour blue
expect 2 missing_value --out
expect 0 help --help

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all ad_click_prediction checks passed"
