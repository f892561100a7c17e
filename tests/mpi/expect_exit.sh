#!/usr/bin/env bash
# expect_exit.sh CODE PATTERN COMMAND... - runs COMMAND (with a 60 s timeout) and passes when it
# exits with CODE and its output (stdout + stderr) contains PATTERN. Prints the output.
want=$1 pat=$2
shift 2
out=$(timeout -k 5 60 "$@" 2>&1)
rc=$?
echo "$out"
if [ $rc -ne "$want" ]; then echo "FAIL: exit $rc, want $want"; exit 1; fi
if ! grep -qF -- "$pat" <<<"$out"; then echo "FAIL: output lacks '$pat'"; exit 1; fi
echo "ok: exit $rc with '$pat'"
