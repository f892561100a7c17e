#!/bin/sh
# run_parity.sh DUMP_EXE DIR PYTHON CHECK_PARITY CONFIG [DUMP_ARGS...]
# Runs `DUMP_EXE DIR CONFIG [DUMP_ARGS...]` into a fresh DIR, then `PYTHON CHECK_PARITY DIR`.
# Exit 0 pass, 1 fail, 77 skip (the dump or the check asked to skip, or no python).
set -u
if [ $# -lt 5 ]; then
    echo "usage: $0 DUMP_EXE DIR PYTHON CHECK_PARITY CONFIG [DUMP_ARGS...]" >&2
    exit 2
fi
exe=$1 dir=$2 py=$3 check=$4
shift 4
if [ ! -x "$py" ]; then
    echo "SKIP: no python interpreter at $py"
    exit 77
fi
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$exe" "$dir" "$@"
rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIP: $exe asked to skip"
    exit 77
elif [ $rc -ne 0 ]; then
    echo "FAIL: $exe $dir $* exited with $rc"
    exit 1
fi
"$py" "$check" "$dir"
rc=$?
case $rc in
    0|77) exit $rc ;;
    *) exit 1 ;;
esac
