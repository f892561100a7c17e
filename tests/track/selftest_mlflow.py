#!/usr/bin/env python3
"""selftest_mlflow.py - the MLflow tree written by track_fixture, checked two ways:

  selftest_mlflow.py FIXTURE_RUN_DIR WORK_DIR

1. check_mlflow.py's rules pass on FIXTURE_RUN_DIR/mlruns, and the content is what the fixture
   logged (values recomputed here from the fixture's documented formulas, not read from C):
   experiment/run names, params, 50 points of loss/lr/grad_norm with NaN at step 7, 5 points of
   eval/fid, standard tags, artifacts, FINISHED status.
2. Copies of the tree, each broken in one way (unquoted experiment id, bad status, 4-field
   metric line, timestamp in seconds, trailing newline in a param, changed param, run folder
   renamed, Default experiment missing, end_time null after FINISHED, bad metric key, run's
   experiment_id wrong, duplicate experiment name, leftover temp file, .trash missing, param
   over 6000 chars): the checker must report each, with the expected words.
Exit 0 when everything holds, 1 otherwise. Knows nothing about how the tree was written.
"""
import math
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_mlflow  # noqa: E402

EXP_NAME = "tinyflow fixture's exp"
PARAMS = {"lr": "0.001", "model/channels": "64", "data.name": "mnist", "note": "a value with spaces"}


def expected_metrics():
    m = {"loss": {}, "lr": {}, "grad_norm": {}, "eval/fid": {}}
    for s in range(50):
        m["loss"][s] = 2.0 / (1.0 + s) + 0.05
        m["lr"][s] = 1e-3 * min(1.0, (s + 1) / 10.0)
        m["grad_norm"][s] = math.nan if s == 7 else 1.0 + 0.01 * s
        if s % 10 == 9:
            m["eval/fid"][s] = 300.0 / (s + 1)
    return m


def find_run(root):
    for d in os.listdir(root):
        meta = os.path.join(root, d, "meta.yaml")
        if d != "0" and os.path.isfile(meta):
            with open(meta, encoding="utf-8") as f:
                doc = check_mlflow.yaml.safe_load(f)
            if doc.get("name") == EXP_NAME:
                runs = [r for r in os.listdir(os.path.join(root, d))
                        if os.path.isdir(os.path.join(root, d, r)) and r not in check_mlflow.RESERVED]
                return d, runs
    return None, []


def check_content(root):
    problems = []
    exp, runs = find_run(root)
    if exp is None or len(runs) != 1:
        return [f"experiment {EXP_NAME!r} with one run not found (got {exp}, {runs})"]
    rd = os.path.join(root, exp, runs[0])
    with open(os.path.join(rd, "meta.yaml"), encoding="utf-8") as f:
        meta = check_mlflow.yaml.safe_load(f)
    if meta.get("run_name") != "fixture-run" or meta.get("status") != 3 or meta.get("user_id") != "ci":
        problems.append(f"run meta: {meta}")
    for k, v in PARAMS.items():
        with open(os.path.join(rd, "params", k), encoding="utf-8") as f:
            got = f.read()
        if got != v:
            problems.append(f"param {k}: {got!r} != {v!r}")
    for key, pts in expected_metrics().items():
        rows = check_mlflow.read_metric(os.path.join(rd, "metrics", key))
        got = {step: value for _, value, step in rows}
        if len(rows) != len(pts) or set(got) != set(pts):
            problems.append(f"metric {key}: steps {sorted(got)} != {sorted(pts)}")
            continue
        for s, want in pts.items():
            ok = math.isnan(got[s]) if math.isnan(want) else got[s] == want
            if not ok:
                problems.append(f"metric {key} step {s}: {got[s]!r} != {want!r}")
        ts = [t for t, _, _ in rows]
        if ts != sorted(ts):
            problems.append(f"metric {key}: timestamps go backwards")
    tags = {"mlflow.runName": "fixture-run", "mlflow.user": "ci", "mlflow.source.name": "track_fixture",
            "mlflow.source.type": "LOCAL", "mlflow.source.git.commit": "0123abcd"}
    for k, v in tags.items():
        path = os.path.join(rd, "tags", k)
        got = open(path, encoding="utf-8").read() if os.path.isfile(path) else None
        if got != v:
            problems.append(f"tag {k}: {got!r} != {v!r}")
    for a in ("config.yaml", "samples/step_0000010.png", "samples/step_0000049.png"):
        path = os.path.join(rd, "artifacts", a)
        if not os.path.isfile(path):
            problems.append(f"artifact {a} missing")
        elif a.endswith(".png") and open(path, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
            problems.append(f"artifact {a} is not a PNG")
    return problems


def edit(path, fn):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new = fn(text)
    assert new != text, f"edit of {path} changed nothing"
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def breakers(exp, run):
    """(name, expected words in an error, function(root))."""
    def e(*p):
        return os.path.join(*p)

    def unquote_id(r):
        edit(e(r, exp, "meta.yaml"), lambda t: t.replace(f"experiment_id: '{exp}'", f"experiment_id: {exp}"))

    def bad_status(r):
        edit(e(r, exp, run, "meta.yaml"), lambda t: re.sub(r"^status: \d+$", "status: 7", t, flags=re.M))

    def four_fields(r):
        edit(e(r, exp, run, "metrics", "loss"), lambda t: t.replace("\n", " 1\n", 1))

    def seconds(r):
        edit(e(r, exp, run, "metrics", "lr"), lambda t: re.sub(r"^(\d+)\d{3} ", r"\1 ", t, count=1))

    def param_newline(r):
        edit(e(r, exp, run, "params", "lr"), lambda t: t + "\n")

    def param_changed(r):
        edit(e(r, exp, run, "params", "model", "channels"), lambda t: "128")

    def rename_run(r):
        os.rename(e(r, exp, run), e(r, exp, "renamed0run"))

    def no_default(r):
        shutil.rmtree(e(r, "0"))

    def end_null(r):
        edit(e(r, exp, run, "meta.yaml"), lambda t: re.sub(r"^end_time: \d+$", "end_time: null", t, flags=re.M))

    def bad_key(r):
        os.rename(e(r, exp, run, "metrics", "loss"), e(r, exp, run, "metrics", "lo$s"))

    def run_exp_id(r):
        edit(e(r, exp, run, "meta.yaml"), lambda t: t.replace(f"experiment_id: '{exp}'", "experiment_id: '999'"))

    def duplicate(r):
        os.makedirs(e(r, "777"))
        edit_src = open(e(r, exp, "meta.yaml"), encoding="utf-8").read()
        with open(e(r, "777", "meta.yaml"), "w", encoding="utf-8") as f:
            f.write(edit_src.replace(f"'{exp}'", "'777'").replace(f"/{exp}\n", "/777\n"))

    def temp_left(r):
        with open(e(r, exp, run, ".meta.yaml.tmp.1234"), "w") as f:
            f.write("x")

    def no_trash(r):
        shutil.rmtree(e(r, ".trash"))

    def long_param(r):
        with open(e(r, exp, run, "params", "huge"), "w") as f:
            f.write("x" * 6001)

    return [("unquoted experiment id", "not a string", unquote_id),
            ("status 7", "status 7", bad_status),
            ("4-field metric line", "4 fields", four_fields),
            ("timestamp in seconds", "not an int in ms", seconds),
            ("param trailing newline", "trailing newline", param_newline),
            ("param changed", "changed from '64' to '128'", param_changed),
            ("run folder renamed", "differs from its folder name", rename_run),
            ("Default missing", "Default", no_default),
            ("end_time null when finished", "end_time None", end_null),
            ("bad metric key", "characters outside", bad_key),
            ("run experiment_id", "of the parent folder", run_exp_id),
            ("duplicate experiment name", "duplicate experiment name", duplicate),
            ("leftover temp file", "leftover temp file", temp_left),
            (".trash missing", ".trash", no_trash),
            ("param over 6000 chars", "limit 6000", long_param)]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    root = os.path.join(sys.argv[1], "mlruns")
    work = sys.argv[2]
    failed = 0
    errors, snapshot = check_mlflow.check_tree(root)
    for err in errors:
        print("good tree:", err)
    failed += bool(errors)
    for p in check_content(root):
        print("content:", p)
        failed += 1
    if len(snapshot) != 1:
        print(f"expected 1 run in the snapshot, got {len(snapshot)}")
        failed += 1
    exp, runs = find_run(root)
    if exp is None:
        return 1
    shutil.rmtree(work, ignore_errors=True)
    for i, (name, words, fn) in enumerate(breakers(exp, runs[0])):
        copy = os.path.join(work, f"b{i:02d}")
        shutil.copytree(root, copy)
        fn(copy)
        errs, _ = check_mlflow.check_tree(copy, snapshot)
        hit = [x for x in errs if words in x]
        if not hit:
            print(f"broken tree '{name}' not detected (wanted '{words}'); checker said: {errs}")
            failed += 1
        else:
            print(f"broken tree '{name}': detected: {hit[0]}")
    # The copy machinery itself must not break anything: an untouched copy passes.
    copy = os.path.join(work, "untouched")
    shutil.copytree(root, copy)
    errs, _ = check_mlflow.check_tree(copy, snapshot)
    if errs:
        print("untouched copy fails:", errs)
        failed += 1
    print("FAILED" if failed else "ok: good tree valid, every broken tree rejected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
