#!/usr/bin/env bash
# End-to-end tests of `mlsd metrics`: hand-checked values on tiny files this script writes itself
# (classification, margins, regression, groups, slices, undefined metrics) and every error (exit
# code and the key phrase of the message, file:line:column included).
#
#   tests/cli/metrics_test.sh path/to/mlsd WORK_DIR
#
# Exit status 0 when every check passes; each failure is printed with the command's output.
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ]; then
  echo "usage: $0 path/to/mlsd WORK_DIR" >&2
  exit 2
fi
MLSD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: the tests run in WORK_DIR
CHECK_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/check_lib.sh
mkdir -p "$2" || exit 2
cd "$2" || exit 2
rm -f out.txt

# shellcheck source=tests/cli/check_lib.sh
. "$CHECK_LIB"

# metrics NAME FILE [flags...]: runs mlsd metrics (exit 0, one JSON object) into NAME.json.
metrics() {
  local name=$1
  shift
  checks=$((checks + 1))
  "$MLSD" metrics --input "$@" >"$name.json" 2>out.txt
  local got=$?
  if [ "$got" -ne 0 ]; then
    fail "$name: exit code $got, expected 0"
  elif ! python3 -c 'import json,sys; json.load(sys.stdin)' <"$name.json" 2>out.txt; then
    fail "$name: not one JSON object"
  fi
}

# value FILE PATH: prints the JSON value at PATH (keys separated by '/'), as Python prints it.
value() {
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("/"):
    v = v[k]
print(v)' "$1" "$2" 2>&1
}

# is NAME FILE PATH EXPECTED: the value at PATH is EXPECTED (numbers within 1e-12, or "None").
is() {
  local name=$1 file=$2 path=$3 want=$4
  checks=$((checks + 1))
  local got
  got=$(value "$file" "$path")
  if ! python3 -c '
import sys
got, want = sys.argv[1], sys.argv[2]
try:
    ok = abs(float(got) - float(want)) <= 1e-12 * max(1.0, abs(float(want)))
except ValueError:
    ok = got == want
sys.exit(0 if ok else 1)' "$got" "$want"; then
    rm -f out.txt
    fail "$name: $path is '$got', expected '$want'"
  fi
}

# absent NAME FILE KEY: the top-level object has no KEY.
absent() {
  checks=$((checks + 1))
  if python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1])) else 1)' "$2" "$3"; then
    rm -f out.txt
    fail "$1: unexpected key $3"
  fi
}

# ---------------------------------------------------------------------------------------------
# Classification: probabilities, columns in any order. Scores are multiples of 1/8 (exact in
# float32), so every value below is a fraction computed by hand.
# positives 0.875, 0.5, 0.25; negatives 0.625, 0.125, 0.5.
# ROC-AUC: 0.875 beats 3; 0.5 beats 0.125, ties 0.5; 0.25 beats 0.125 -> (3 + 1.5 + 1) / 9.
# AP: thresholds 0.875 (P 1, R 1/3), 0.625 (no positive), 0.5 (tp 2, fp 2: P 1/2, R 2/3),
#     0.25 (tp 3, fp 2: P 3/5, R 1) -> (1 + 1/2 + 3/5) / 3.
# Brier: (1/8)^2 + (1/2)^2 + (3/4)^2 + (5/8)^2 + (1/8)^2 + (1/2)^2, over 6.
# At threshold 0.5 (score >= 0.5): tp 2 (0.875, 0.5), fp 2 (0.625, 0.5), fn 1, tn 1.
# ---------------------------------------------------------------------------------------------
printf 'score,label\n0.875,1\n0.625,0\n0.5,1\n0.5,0\n0.25,1\n0.125,0\n' >cls.csv
metrics cls cls.csv
is "cls" cls.json rows 6
is "cls" cls.json task binary_classification
is "cls" cls.json positives 3
is "cls" cls.json scores_are_probabilities True
is "cls" cls.json roc_auc "$(python3 -c 'print(5.5 / 9)')"
is "cls" cls.json average_precision "$(python3 -c 'print((1 + 1/2 + 3/5) / 3)')"
is "cls" cls.json brier_score "$(python3 -c 'print((1/64 + 1/4 + 9/16 + 25/64 + 1/64 + 1/4) / 6)')"
is "cls" cls.json log_loss "$(python3 -c 'import math; print(-(math.log(0.875) + math.log(0.375) + math.log(0.5) + math.log(0.5) + math.log(0.25) + math.log(0.875)) / 6)')"
is "cls" cls.json calibration_ratio "$(python3 -c 'print((0.875 + 0.625 + 0.5 + 0.5 + 0.25 + 0.125) / 3)')"
is "cls" cls.json threshold 0.5
is "cls" cls.json confusion_matrix/tp 2
is "cls" cls.json confusion_matrix/fp 2
is "cls" cls.json confusion_matrix/fn 1
is "cls" cls.json confusion_matrix/tn 1
is "cls" cls.json accuracy "$(python3 -c 'print(3 / 6)')"
is "cls" cls.json precision 0.5
is "cls" cls.json recall "$(python3 -c 'print(2 / 3)')"
is "cls" cls.json f1 "$(python3 -c 'print(4 / 7)')"
absent "cls" cls.json ranking
absent "cls" cls.json slices
absent "cls" cls.json undefined
absent "cls" cls.json rmse

metrics cls_t cls.csv --threshold 0.6 # tp 1 (0.875), fp 1 (0.625): precision 1/2, recall 1/3
is "--threshold" cls_t.json precision 0.5
is "--threshold" cls_t.json recall "$(python3 -c 'print(1 / 3)')"
is "--threshold" cls_t.json threshold 0.6

# Margins: ranking metrics only; the probability metrics are null with the reason.
printf 'label,score\n1,2.5\n0,-1\n1,0.5\n0,0.75\n' >margins.csv
metrics margins margins.csv --threshold 0
is "margins" margins.json scores_are_probabilities False
is "margins" margins.json roc_auc 0.75
is "margins" margins.json log_loss None
is "margins" margins.json undefined/log_loss "the scores are not probabilities in [0, 1] (line 2: 2.5)"
is "margins" margins.json undefined/brier_score "the scores are not probabilities in [0, 1] (line 2: 2.5)"
is "margins" margins.json accuracy 0.75
# -1/+1 labels are binary too.
printf 'label,score\n1,0.75\n-1,0.25\n' >pm.csv
metrics pm pm.csv
is "-1/+1 labels" pm.json task binary_classification
is "-1/+1 labels" pm.json roc_auc 1.0

# One class: ROC-AUC, AP, NE undefined with their reasons, never NaN.
printf 'label,score\n1,0.75\n1,0.25\n' >one.csv
metrics one one.csv
is "one class" one.json roc_auc None
is "one class" one.json undefined/roc_auc "only one class (2 positives, 0 negatives)"
is "one class" one.json average_precision 1.0
is "one class" one.json normalized_entropy None

# A header and no rows: every metric undefined ("no observations").
printf 'label,score\n' >header_only.csv
metrics header_only header_only.csv
is "header only" header_only.json rows 0
is "header only" header_only.json roc_auc None
is "header only" header_only.json undefined/roc_auc "no observations"

# ---------------------------------------------------------------------------------------------
# Regression: labels that are not 0/1. Errors 0.5, -0.5, 0.125 (exact in float32).
# ---------------------------------------------------------------------------------------------
printf 'label,score\n1.5,2\n3,2.5\n0,0.125\n' >reg.csv
metrics reg reg.csv
is "regression" reg.json task regression
is "regression" reg.json rmse "$(python3 -c 'import math; print(math.sqrt((0.25 + 0.25 + 1/64) / 3))')"
is "regression" reg.json mae "$(python3 -c 'print((0.5 + 0.5 + 0.125) / 3)')"
is "regression" reg.json r_squared "$(python3 -c 'print(1 - (0.25 + 0.25 + 1/64) / ((1.5 - 1.5)**2 + (3 - 1.5)**2 + (0 - 1.5)**2))')"
absent "regression" reg.json roc_auc
absent "regression" reg.json positives

# ---------------------------------------------------------------------------------------------
# Groups: ranking metrics per group, --k. Query a: relevances by score 1, 0, 1 (scores 0.875,
# 0.5, 0.25); query b: 0, 1 (0.75, 0.125); query c: no relevant item (skipped and counted).
# nDCG@2: a: (1 + 0) / (1 + 1/log2(3)); b: (1/log2(3)) / 1. precision@2: a 1/2, b 1/2.
# MRR: a 1, b 1/2. GAUC: a: AUC (0.875 > 0.5, 0.25 < 0.5) = 1/2 over 3 impressions; b: 0 over
# 2 -> (3 · 1/2 + 2 · 0) / 5; c skipped (one class).
# ---------------------------------------------------------------------------------------------
printf 'group,label,score\na,1,0.875\nb,0,0.75\na,0,0.5\nc,0,0.5\na,1,0.25\nb,1,0.125\nc,0,0.25\n' >groups.csv
metrics groups groups.csv --k 2
is "groups" groups.json ranking/groups 3
is "groups" groups.json ranking/k 2
is "groups" groups.json ranking/groups_without_relevant 1
is "groups" groups.json ranking/ndcg_at_k "$(python3 -c 'import math; d = 1 / math.log2(3); print((1 / (1 + d) + d) / 2)')"
is "groups" groups.json ranking/precision_at_k 0.5
is "groups" groups.json ranking/mrr 0.75
is "groups" groups.json ranking/gauc 0.3
is "groups" groups.json ranking/gauc_groups_skipped 1
metrics groups_k1 groups.csv --k 1
is "--k 1" groups_k1.json ranking/precision_at_k 0.5
is "--k 1" groups_k1.json ranking/ndcg_at_k 0.5
# Graded relevance: labels 0..3 are not binary, so regression metrics and graded nDCG.
printf 'group,label,score\nq,3,0.75\nq,0,0.5\nq,2,0.25\n' >graded.csv
metrics graded graded.csv --k 3
is "graded" graded.json task regression
is "graded" graded.json ranking/ndcg_at_k "$(python3 -c 'import math; print((3 + 2 / 2) / (3 + 2 / math.log2(3)))')"
absent "graded" graded.json gauc

# ---------------------------------------------------------------------------------------------
# Slices: every metric per slice, sorted keys, undefined slices kept with their reason.
# ---------------------------------------------------------------------------------------------
printf 'label,score,slice\n1,0.875,web\n0,0.5,web\n1,0.75,app\n0,0.25,web\n1,0.5,app\n' >slices.csv
metrics slices slices.csv
is "slices" slices.json slices/app/rows 2
is "slices" slices.json slices/app/roc_auc None
is "slices" slices.json slices/app/undefined/roc_auc "only one class (2 positives, 0 negatives)"
is "slices" slices.json slices/web/rows 3
is "slices" slices.json slices/web/roc_auc 1.0
is "slices" slices.json roc_auc "$(python3 -c 'print(5.5 / 6)')"
checks=$((checks + 1))
if [ "$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["slices"]))' slices.json)" != "app,web" ]; then
  fail "slices: keys not in sorted order"
fi

# ---------------------------------------------------------------------------------------------
# Errors: usage (exit 2) and bad data (exit 1, the message names file:line:column and field).
# ---------------------------------------------------------------------------------------------
expect "no --input" 2 "--input is required" -- "$MLSD" metrics
expect "unknown flag" 2 "--bogus" -- "$MLSD" metrics --input cls.csv --bogus
expect "--k 0" 2 "expected a whole number >= 1, found '0'" -- "$MLSD" metrics --input cls.csv --k 0
expect "--threshold nan" 2 "expected a finite number, found 'nan'" -- \
  "$MLSD" metrics --input cls.csv --threshold nan
expect "help metrics" 0 "--threshold" -- "$MLSD" help metrics
expect "missing file" 1 "nope.csv: expected an existing file" -- "$MLSD" metrics --input nope.csv
: >empty.csv
expect "empty file" 1 "empty.csv: expected a non-empty file" -- "$MLSD" metrics --input empty.csv
printf 'label,group\n1,a\n' >no_score.csv
expect "missing column" 1 "no_score.csv:1:12: field 'score': expected a header column named 'score'" -- \
  "$MLSD" metrics --input no_score.csv
printf 'label,score,id\n1,0.5,7\n' >extra.csv
expect "extra column" 1 "extra.csv:1:13: field 'id': expected only the columns label, score, group and slice" -- \
  "$MLSD" metrics --input extra.csv
printf 'label,score\n1,0.5\n0,0.2x\n' >bad_number.csv
expect "bad number" 1 "bad_number.csv:3:3: field 'score': expected a float64 number, found '0.2x'" -- \
  "$MLSD" metrics --input bad_number.csv
printf 'label,score\n1,0.5\n,0.2\n' >missing_label.csv
expect "empty label" 1 "missing_label.csv:3:1: field 'label'" -- "$MLSD" metrics --input missing_label.csv
printf 'label,score\n1,nan\n' >nan.csv
expect "NaN score" 1 "nan.csv:2:3: field 'score': expected a finite float64 number" -- \
  "$MLSD" metrics --input nan.csv
printf 'label,score\n1,1e300\n' >huge.csv
expect "score beyond float" 1 "huge.csv:2: field 'score': expected a number within the float range" -- \
  "$MLSD" metrics --input huge.csv
printf 'label,score\n1,0.5,3\n' >too_many.csv
expect "too many fields" 1 "too_many.csv:2:" -- "$MLSD" metrics --input too_many.csv
printf 'group,label,score\nq,2,0.5\nq,-1,0.25\n' >negative_relevance.csv
expect "negative graded relevance" 1 "negative_relevance.csv:3: field 'label': expected a relevance >= 0" -- \
  "$MLSD" metrics --input negative_relevance.csv

echo "metrics_test: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
