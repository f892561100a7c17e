# lib.sh - shared start of the tests/eval shell tests (sourced): a scratch directory removed on
# exit (the shell is left in it), an environment without the variables that would redirect data,
# configs or MPI, and the pass/fail counters with ok/bad. Knows nothing about what is tested.
#   . "$SRC/tests/eval/lib.sh"; tf_eval_scratch NAME
tf_eval_scratch() {
    TMP=$(mktemp -d "/tmp/tf_test_$1_XXXXXX") || exit 1
    trap 'rm -rf "$TMP"' EXIT
    cd "$TMP" || exit 1
    unset TINYFLOW_DATA TINYFLOW_CONFIG_DIR OMPI_COMM_WORLD_SIZE PMI_SIZE PMIX_SIZE
}
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
