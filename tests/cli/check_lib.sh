# Shared by the command-line tests (cli_test.sh, metrics_test.sh): sourced, not run. Counts
# checks and failures, and runs a command expecting an exit code and a phrase in its output.
# The caller reports `$checks` and `$failures` at the end.
# shellcheck shell=bash

checks=0
failures=0

fail() {
  failures=$((failures + 1))
  echo "FAIL: $1" >&2
  if [ -f out.txt ]; then
    sed 's/^/    | /' out.txt >&2
  fi
}

# expect NAME CODE PHRASE -- COMMAND...: runs COMMAND, checks its exit code and that its standard
# output or standard error contains PHRASE (fixed string; empty: no check).
expect() {
  local name=$1 code=$2 phrase=$3
  shift 4
  checks=$((checks + 1))
  "$@" >out.txt 2>&1
  local got=$?
  if [ "$got" -ne "$code" ]; then
    fail "$name: exit code $got, expected $code"
    return
  fi
  if [ -n "$phrase" ] && ! grep -qF -- "$phrase" out.txt; then
    fail "$name: output lacks '$phrase'"
  elif grep -qE 'Sanitizer|runtime error:|terminate called' out.txt; then
    fail "$name: sanitizer report or uncaught exception"
  fi
}
