#!/usr/bin/env bash
# End-to-end tests of the `mlsd` command-line tool: usage and data errors (exit code and a key
# phrase of the message) and train -> predict -> eval on tiny data sets this script writes itself.
#
#   tests/cli/cli_test.sh path/to/mlsd
#
# Exit status 0 when every check passes; each failure is printed with the command's output.
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 path/to/mlsd" >&2
  exit 2
fi
MLSD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: the tests run in a temp dir
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CHECK_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/check_lib.sh
cd "$TMP" || exit 2

# shellcheck source=tests/cli/check_lib.sh
. "$CHECK_LIB"

# check NAME COMMAND...: a shell condition that must hold.
check() {
  local name=$1
  shift
  checks=$((checks + 1))
  rm -f out.txt
  if ! "$@"; then
    fail "$name"
  fi
}

# json_field FILE KEY: prints key KEY of the JSON object in FILE (fails when FILE is not JSON).
json_field() {
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"
}

# at_least A B / at_most A B: float comparisons.
at_least() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"; }
at_most() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# Data. A separable toy set: feature 1 present -> positive, feature 2 present -> negative, and
# two of the noise features 3..8 in every row.
# ---------------------------------------------------------------------------------------------
awk 'BEGIN {
  for (r = 0; r < 200; ++r) {
    a = 3 + r % 6; b = 3 + (r * 7 + 1) % 6; if (b == a) b = 3 + (b - 2) % 6;
    if (a > b) { t = a; a = b; b = t }
    if (r % 2 == 0) printf "+1 1:1 %d:1 %d:1\n", a, b; else printf "-1 2:1 %d:1 %d:1\n", a, b;
  }
}' >toy.svm
head -n 40 toy.svm >toy_valid.svm
# The same rows in libffm (field 0: the class feature, field 1: noise) and as CSV.
awk '{ printf "%s", $1; for (i = 2; i <= NF; ++i) { split($i, p, ":"); printf " %d:%d:1", (p[1] <= 2 ? 0 : 1), p[1] - 1 } printf "\n" }' toy.svm >toy.ffm
awk 'BEGIN { print "label,f1,f2,f3,f4,f5,f6,f7,f8" }
{ n = split("0 0 0 0 0 0 0 0", v, " "); for (i = 2; i <= NF; ++i) { split($i, p, ":"); v[p[1]] = 1 }
  printf "%d", ($1 > 0); for (i = 1; i <= 8; ++i) printf ",%d", v[i]; printf "\n" }' toy.svm >toy.csv
# Ratings with additive structure: rating = 1 + user % 3 + item % 3 (biased MF fits it exactly).
awk 'BEGIN { print "userId,movieId,rating,timestamp";
  for (u = 1; u <= 30; ++u) for (i = 1; i <= 12; ++i) if ((u + i) % 4 != 0)
    printf "u%d,%d,%d,%d\n", u, i, 1 + u % 3 + i % 3, 1000 + u * i }' >ratings.csv
# Anomalies: 300 points on a small grid near the origin, 6 far away; label 1 marks them.
awk 'BEGIN { print "id,x,y,z,label";
  for (r = 0; r < 300; ++r) printf "%d,%.2f,%.2f,%.2f,0\n", r, (r % 10) / 10, (r % 7) / 7, (r % 13) / 13;
  for (r = 0; r < 6; ++r) printf "%d,%d,%d,%d,1\n", 300 + r, 8 + r, -9 - r, 10 + r }' >points.csv

mkdir a_directory
: >empty.svm
printf '1 1:1 2:1\n0 1:1 3:1\n1 0:1:1 1:2:1\n' >mixed.svm
printf '1 1:1 2:1\n0 1:oops 3:1\n' >bad_value.svm
printf '1 1:1 2:1\n1 1:1 9:1\n' >beyond.svm
printf 'this is not a model file\n' >not_a_model.bin

MODELS=$("$MLSD" train --help | sed -n 's/.*--model TEXT:{\([a-z,]*\)}.*/\1/p' | tr ',' ' ')
has_model() { case " $MODELS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
echo "mlsd train --model choices in this build: $MODELS"
check "train --help lists the --model choices" test -n "$MODELS"

# ---------------------------------------------------------------------------------------------
# Version, help and usage errors (exit 2)
# ---------------------------------------------------------------------------------------------
expect "--version" 0 "mlsd 0." -- "$MLSD" --version
expect "help" 0 "train" -- "$MLSD" help
expect "help train" 0 "--patience" -- "$MLSD" help train
expect "train --help" 0 "--optimizer" -- "$MLSD" train --help
expect "no command" 2 "A subcommand is required" -- "$MLSD"
expect "unknown flag" 2 "--bogus" -- "$MLSD" train --model fm --train toy.svm --out m.bin --bogus
expect "unknown model" 2 "--model" -- "$MLSD" train --model svm --train toy.svm --out m.bin
expect "missing --out" 2 "--out is required" -- "$MLSD" train --model fm --train toy.svm
expect "--k 0" 2 "expected a whole number >= 1, found '0'" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --k 0
expect "--epochs -1" 2 "expected a whole number >= 1, found '-1'" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --epochs -1
expect "--lr 0" 2 "expected a number > 0" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --lr 0
expect "--patience without --valid" 2 "--patience needs --valid" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --patience 2
expect "--valid-metric without --valid" 2 "--valid-metric needs --valid" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --valid-metric roc_auc
expect "--valid-metric log_loss with --loss squared" 2 "needs probabilities" -- \
  "$MLSD" train --model lr --train toy.svm --out m.bin --valid toy.svm --loss squared \
  --valid-metric log_loss
expect "--valid-metric ndcg_at_k" 2 "--valid-metric: ndcg_at_k not in" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --valid toy.svm --valid-metric ndcg_at_k
expect "--trees for fm" 2 "--trees does not apply to --model fm" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --trees 10
expect "--optimizer ftrl for fm" 2 "--optimizer ftrl is not available for --model fm" -- \
  "$MLSD" train --model fm --train toy.svm --out m.bin --optimizer ftrl

# ---------------------------------------------------------------------------------------------
# Bad files (exit 1, the message names the file and the problem)
# ---------------------------------------------------------------------------------------------
expect "missing file" 1 "nope.svm: expected an existing file" -- \
  "$MLSD" train --model fm --train nope.svm --out m.bin
expect "directory as file" 1 "a_directory: expected a file, found 'a directory'" -- \
  "$MLSD" train --model fm --train a_directory --out m.bin
expect "empty file" 1 "empty.svm: expected a non-empty file" -- \
  "$MLSD" train --model fm --train empty.svm --out m.bin
expect "mixed formats" 1 "mixed.svm:3:3: expected the format of line 1 (mixed formats" -- \
  "$MLSD" train --model fm --train mixed.svm --out m.bin
expect "mixed formats, format given" 1 "mixed.svm:3:" -- \
  "$MLSD" train --model fm --train mixed.svm --format libsvm --out m.bin
expect "bad value" 1 "bad_value.svm:2:" -- \
  "$MLSD" train --model fm --train bad_value.svm --out m.bin
expect "CSV without its label column" 1 "a label column 'target'" -- \
  "$MLSD" train --model fm --train toy.csv --label-col target --out m.bin
expect "not a model file" 1 "not a model file" -- \
  "$MLSD" predict --model not_a_model.bin --data toy.svm --out p.txt
expect "model file that does not exist" 1 "nope.bin" -- \
  "$MLSD" predict --model nope.bin --data toy.svm --out p.txt
check "no model file written after errors" test ! -e m.bin

# ---------------------------------------------------------------------------------------------
# Happy paths: train -> predict -> eval
# ---------------------------------------------------------------------------------------------
# happy NAME MODEL TRAIN DATA [flags...]: trains, predicts (one line per row), evaluates (JSON).
happy_binary() {
  local name=$1 model=$2 train=$3
  shift 3
  expect "$name: train" 0 "" -- "$MLSD" train --model "$model" --train "$train" --out "$name.json" \
    --epochs 20 --seed 3 "$@"
  expect "$name: predict" 0 "" -- "$MLSD" predict --model "$name.json" --data "$train" --out "$name.pred"
  local rows
  rows=$(grep -cv '^label' "$train")
  check "$name: one prediction per row" test "$(wc -l <"$name.pred")" -eq "$rows"
  expect "$name: eval" 0 "" -- sh -c "'$MLSD' eval --model '$name.json' --data '$train' >'$name.eval.json'"
  check "$name: eval prints one JSON object" \
    sh -c "python3 -c 'import json,sys; json.load(sys.stdin)' <'$name.eval.json'"
  check "$name: accuracy 1 on separable data" \
    test "$(json_field "$name.eval.json" accuracy)" = "1.0"
  check "$name: ROC-AUC 1" test "$(json_field "$name.eval.json" roc_auc)" = "1.0"
  check "$name: rows" test "$(json_field "$name.eval.json" rows)" = "$rows"
}

if has_model lr; then
  happy_binary lr lr toy.svm
  expect "lr: detected libsvm" 0 "detected libsvm" -- \
    "$MLSD" train --model lr --train toy.svm --out lr2.bin --epochs 2
  happy_binary lr_csv lr toy.csv
  happy_binary lr_ftrl lr toy.svm --optimizer ftrl --l1 0.001
  happy_binary lr_adagrad lr toy.svm --optimizer adagrad --lr 0.5
  # libFM's files count indices from 0: refused as LIBSVM, read with --index-base 0.
  awk '{ printf "%s", $1; for (i = 2; i <= NF; ++i) { split($i, p, ":"); printf " %d:%s", p[1] - 1, p[2] } printf "\n" }' \
    toy.svm >toy.libfm
  expect "lr: index 0 in a LIBSVM file" 1 "toy.libfm:1:4: expected a feature index of at least 1, found '0'" -- \
    "$MLSD" train --model lr --train toy.libfm --out lr0.json
  happy_binary lr_zero_based lr toy.libfm --index-base 0
  expect "lr: linear regression" 0 "" -- \
    "$MLSD" train --model lr --loss squared --train toy.svm --out lr_sq.json --epochs 20
  expect "lr: regression eval" 0 "" -- sh -c "'$MLSD' eval --model lr_sq.json --data toy.svm >lr_sq.eval.json"
  check "lr: regression metrics" test "$(json_field lr_sq.eval.json task)" = "regression"
  check "lr: regression R^2 near 1" at_least "$(json_field lr_sq.eval.json r_squared)" 0.99
  printf '+1 1:1 3:1\n' >one_class.svm
  expect "lr: eval on one class" 0 "" -- sh -c "'$MLSD' eval --model lr.json --data one_class.svm >one.eval.json"
  check "lr: ROC-AUC of one class is null" test "$(json_field one.eval.json roc_auc)" = "None"
  expect "lr: --format csv for a libsvm model" 2 "--format csv does not fit a model trained on libsvm" -- \
    "$MLSD" eval --model lr.json --data toy.csv --format csv
  expect "lr: model into a missing directory" 1 "no_dir/m.bin" -- \
    "$MLSD" train --model lr --train toy.svm --out no_dir/m.bin
  expect "lr: predictions into a missing directory" 1 "no_dir/p.txt: expected a writable file" -- \
    "$MLSD" predict --model lr.json --data toy.svm --out no_dir/p.txt
fi
if has_model fm; then
  happy_binary fm fm toy.svm --k 4
  expect "fm: detected libsvm" 0 "detected libsvm (line 1 has index:value entries ('1:1'))" -- \
    "$MLSD" train --model fm --train toy.svm --out fm2.bin --epochs 2
  happy_binary fm_csv fm toy.csv --k 4
  happy_binary fm_hashed fm toy.svm --k 4 --bits 10
  expect "fm: early stopping with --valid" 0 "valid loss" -- \
    "$MLSD" train --model fm --train toy.svm --valid toy_valid.svm --patience 2 --epochs 5 --out fm3.bin
  expect "fm: early stopping on the validation ROC-AUC" 0 ", valid roc_auc " -- \
    "$MLSD" train --model fm --train toy.svm --valid toy_valid.svm --patience 2 --epochs 5 \
    --valid-metric roc_auc --out fm_auc.json
  check "fm: the model file records the validation metric per epoch" \
    grep -qF '"name": "roc_auc"' fm_auc.json
  # Binary model file: predictions identical to the JSON one's.
  expect "fm: binary model" 0 "" -- "$MLSD" train --model fm --train toy.svm --out fm.bin --epochs 20 \
    --seed 3 --k 4
  expect "fm: predict to stdout" 0 "" -- sh -c "'$MLSD' predict --model fm.bin --data toy.svm --out - >fm_bin.pred"
  check "fm: binary and JSON model files predict the same" cmp -s fm.pred fm_bin.pred
  # Feature 9 is beyond the 8 features of the training data.
  expect "fm: feature beyond the model's range" 1 "beyond.svm:2: expected feature indices the model knows (1 to 8), in row 2, found '9'" -- \
    "$MLSD" predict --model fm.json --data beyond.svm --out p.txt
  expect "fm: eval on a CSV for a libsvm model" 1 "toy.csv:1:" -- \
    "$MLSD" eval --model fm.json --data toy.csv
  sed 's/"model_type": "fm"/"model_type": "two_tower"/' fm.json >two_tower.json
  expect "predict with a model type the tool does not score" 1 \
    "two_tower.json: wrong model type: mlsd predict and eval read logistic_regression, fm, ffm, isolation_forest models; this file holds a two_tower model" -- \
    "$MLSD" predict --model two_tower.json --data toy.svm --out p.txt
  check "fm: no prediction file after errors" test ! -e p.txt
fi
if has_model ffm; then
  happy_binary ffm ffm toy.ffm --k 4
  expect "ffm: detected libffm" 0 "detected libffm" -- \
    "$MLSD" train --model ffm --train toy.ffm --out ffm2.bin --epochs 2
  expect "ffm on libsvm data" 2 "--model ffm needs fields" -- \
    "$MLSD" train --model ffm --train toy.svm --out ffm3.bin
  expect "ffm: predict libsvm rows" 2 "needs rows with fields" -- \
    "$MLSD" predict --model ffm.json --data toy.svm --format libsvm --out p.txt
  expect "ffm: predict libsvm rows read as libffm" 1 "toy.svm:1:" -- \
    "$MLSD" predict --model ffm.json --data toy.svm --out p.txt
  happy_binary ffm_csv ffm toy.csv --k 4
fi
if has_model mf; then
  expect "mf: train" 0 "detected csv" -- "$MLSD" train --model mf --train ratings.csv --out mf.json \
    --user-col userId --item-col movieId --k 4 --epochs 60 --lr 0.05
  expect "mf: predict" 0 "" -- "$MLSD" predict --model mf.json --data ratings.csv --out mf.pred
  check "mf: one prediction per row" test "$(wc -l <mf.pred)" -eq "$(($(wc -l <ratings.csv) - 1))"
  expect "mf: eval" 0 "" -- sh -c "'$MLSD' eval --model mf.json --data ratings.csv >mf.eval.json"
  check "mf: eval prints one JSON object" \
    sh -c "python3 -c 'import json,sys; json.load(sys.stdin)' <mf.eval.json"
  check "mf: RMSE below 0.25 on additive ratings" at_most "$(json_field mf.eval.json rmse)" 0.25
  check "mf: task is regression" test "$(json_field mf.eval.json task)" = "regression"
  expect "mf: --valid-metric does not apply" 2 "--valid-metric does not apply to --model mf" -- \
    "$MLSD" train --model mf --train ratings.csv --valid ratings.csv --out mf2.json \
    --user-col userId --item-col movieId --valid-metric rmse
  printf 'userId,movieId,rating\nu1,1,3\nnobody,1,3\n' >new_user.csv
  expect "mf: unknown user is counted" 0 "1 of 2 rows have a user or item not seen in training" -- \
    "$MLSD" predict --model mf.json --data new_user.csv --out mf_new.pred
  expect "mf: ratings without the user column" 1 "a column 'user'" -- \
    "$MLSD" train --model mf --train ratings.csv --out mf2.json
  expect "mf on libsvm data" 1 "a CSV file of ratings" -- \
    "$MLSD" train --model mf --train toy.svm --out mf2.json
fi
if has_model iforest; then
  expect "iforest: train" 0 "" -- "$MLSD" train --model iforest --train points.csv --out if.json \
    --label-col label --drop-col id --trees 50 --seed 5
  expect "iforest: predict" 0 "" -- "$MLSD" predict --model if.json --data points.csv --out if.pred
  check "iforest: one score per row" test "$(wc -l <if.pred)" -eq 306
  expect "iforest: eval" 0 "" -- sh -c "'$MLSD' eval --model if.json --data points.csv >if.eval.json"
  check "iforest: eval prints one JSON object" \
    sh -c "python3 -c 'import json,sys; json.load(sys.stdin)' <if.eval.json"
  check "iforest: ROC-AUC 1 on far outliers" test "$(json_field if.eval.json roc_auc)" = "1.0"
  expect "iforest: unlabelled model" 0 "" -- "$MLSD" train --model iforest --train points.csv \
    --out if_unlabelled.json --drop-col id --drop-col label
  expect "iforest: eval needs labels" 1 "points.csv:1: expected a label column (see --label-col)" -- \
    "$MLSD" eval --model if_unlabelled.json --data points.csv
  expect "iforest: eval with --label-col" 0 "anomaly_detection" -- \
    "$MLSD" eval --model if_unlabelled.json --data points.csv --label-col label
  expect "iforest: unknown --drop-col" 1 "a column 'nope'" -- \
    "$MLSD" train --model iforest --train points.csv --out if2.json --drop-col nope
fi

echo "cli_test: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
