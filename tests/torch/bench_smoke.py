#!/usr/bin/python3
"""bench_smoke.py - CTest torch_bench_smoke: bench/torch_step.py at a tiny size (train, and
sample with --best) prints one JSON line with the agreed fields and a FLOP count equal to
unet_flops; bench/compare.py pairs it with a tinyflow line and computes the ratio, and exits 1
when nothing pairs. Exit 0 pass, 1 fail, 77 without torch."""
import json
import os
import subprocess
import sys

try:
    import torch  # noqa: F401
except ImportError as e:
    print("SKIP: torch not importable with %s: %s" % (sys.executable, e))
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "bench")
sys.path.insert(0, HERE)
import unet_ref  # noqa: E402

FIELDS = ("impl", "torch", "config", "mode", "batch", "threads", "images_per_s", "step_ms", "gflops_effective",
          "peak_rss_mb", "settings")
fails = []


def check(cond, msg):
    if not cond:
        fails.append(msg)
        print("FAIL:", msg)


def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def torch_step(extra, mode, batch):
    rc, out, err = run([sys.executable, os.path.join(BENCH, "torch_step.py"), "--config", "mnist", "--mode", mode,
                        "--batch", str(batch), "--threads", "1", "--iters", "1", "--warmup", "1"] + extra)
    check(rc == 0, "torch_step %s exit %d: %s" % (extra, rc, err))
    lines = [ln for ln in out.splitlines() if ln.strip()]
    check(len(lines) == 1, "torch_step printed %d lines, want one JSON line: %r" % (len(lines), out))
    try:
        d = json.loads(lines[-1])
    except (ValueError, IndexError):
        check(False, "not JSON: %r" % out)
        return None
    print(lines[-1])
    for f in FIELDS:
        check(f in d, "JSON lacks %s" % f)
    check(d.get("impl") == "pytorch" and d.get("mode") == mode and d.get("batch") == batch and d.get("threads") == 1,
          "JSON identity fields wrong: %s" % d)
    check(d.get("images_per_s", 0) > 0 and d.get("step_ms", 0) > 0, "non-positive timing")
    want = unet_ref.unet_flops(unet_ref.get_config("mnist"), batch) * (3 if mode == "train" else 1)
    check(abs(d.get("gflop_per_step", 0) - want / 1e9) < 0.01, "gflop_per_step %s != %g" % (d.get("gflop_per_step"), want / 1e9))
    gf = want / (d["step_ms"] / 1e3) / 1e9
    check(abs(d.get("gflops_effective", 0) - gf) <= 0.02 * gf + 0.1, "gflops_effective inconsistent with step_ms")
    return d


def main():
    d1 = torch_step([], "train", 2)
    d2 = torch_step(["--best"], "sample", 4)
    if d2:
        check(d2.get("best") is True and d2["settings"].get("channels_last") is True, "--best settings not recorded")
    if d1:
        tf = {"impl": "tinyflow", "config": "mnist", "mode": "train", "batch": 2, "threads": 1,
              "images_per_s": 2 * d1["images_per_s"], "gflops_effective": 1.0}
        rc, out, err = run([sys.executable, os.path.join(BENCH, "compare.py")],
                           stdin="noise\n" + json.dumps(d1) + "\n" + json.dumps(tf) + "\n" + json.dumps(d2 or {}) + "\n")
        print(out.rstrip())
        check(rc == 0, "compare.py exit %d: %s" % (rc, err))
        pairs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
        check(len(pairs) == 1 and pairs[0]["config"] == "mnist" and pairs[0]["mode"] == "train"
              and abs(pairs[0]["ratio"] - 2.0) < 0.01, "compare.py pair lines wrong: %s" % pairs)
        check("| mnist | train | 2 | 1 |" in out, "compare.py table row missing")
        rc, out, err = run([sys.executable, os.path.join(BENCH, "compare.py")], stdin=json.dumps(d1) + "\n")
        check(rc == 1, "compare.py with no pair exit %d, want 1" % rc)
    if fails:
        print("bench_smoke: %d failed" % len(fails))
        return 1
    print("bench_smoke: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
