#!/usr/bin/python3
"""selfcheck.py [WORKDIR] - tests the parity harness without the C side (CTest torch_harness_selfcheck).

Runs test_unet_ref.py, then dumps made by the PyTorch reference in float32 (make_fake_dump.py)
must pass check_parity.py, and each injected fault must make it fail with exit 1: one gradient
scaled by 1 + 1e-3 (or 3e-4), one element of a gradient off by 1e-3 of its norm, the output
scaled, the input gradient scaled, a missing parameter, an extra parameter, a missing gradient and
a wrong dtype. Exit 0 when every expectation holds, 1 otherwise, 77 without torch.
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch  # noqa: F401
except ImportError as e:
    print("SKIP: torch/numpy not importable with %s: %s" % (sys.executable, e))
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable


def run(args, threads=None):
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    p = subprocess.run([PY] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                       env=env)
    return p.returncode, p.stdout


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="torch_selfcheck_")
    os.makedirs(work, exist_ok=True)
    fails = []

    bases = {}

    def base(key, args_dump):
        """A fake dump made once per argument list; faults are applied to copies."""
        if key not in bases:
            d = os.path.join(work, "base_" + key)
            shutil.rmtree(d, ignore_errors=True)
            rc, out = run([os.path.join(HERE, "make_fake_dump.py"), d] + args_dump)
            if rc != 0:
                fails.append("%s: make_fake_dump failed (%d)\n%s" % (key, rc, out))
                return None
            bases[key] = d
        return bases[key]

    jobs = []

    def expect(name, key, args_dump, want, mutate=None, must_say=None, show=False):
        src = base(key, args_dump)
        if src is None:
            return
        d = os.path.join(work, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d)
        if mutate:
            mutate(d)
        jobs.append((name, d, want, must_say, show))

    def check(job):
        name, d, want, must_say, show = job
        rc, out = run([os.path.join(HERE, "check_parity.py"), d], threads=1)
        ok = rc == want and (must_say is None or must_say in out)
        lines = ["[%s] %-26s check_parity exit %d (want %d)" % ("ok" if ok else "WRONG", name, rc, want)]
        if not ok:
            lines.append("%s: exit %d, want %d%s\n%s" % (name, rc, want,
                         "" if must_say is None else " and output containing '%s'" % must_say, out))
        elif show:
            lines.append(out.rstrip())
        return ok, lines

    def scale(fname, eps=1e-3):
        def f(d):
            p = os.path.join(d, fname + ".npy")
            np.save(p, np.load(p) * np.float32(1 + eps))
        return f

    def remove(fname):
        return lambda d: os.remove(os.path.join(d, fname + ".npy"))

    def add_param(pname):
        return lambda d: np.save(os.path.join(d, "param.%s.npy" % pname), np.zeros(4, np.float32))

    def to_f64(d):
        p = os.path.join(d, "grad.stem.weight.npy")
        np.save(p, np.load(p).astype(np.float64))

    def one_element(d):   # a single wrong element worth 1e-3 of the tensor norm
        p = os.path.join(d, "grad.out_conv.weight.npy")
        a = np.load(p)
        a.flat[5] += np.float32(1e-3 * np.linalg.norm(a))
        np.save(p, a)

    rc, out = run([os.path.join(HERE, "test_unet_ref.py")])
    print(out.rstrip())
    if rc != 0:
        fails.append("test_unet_ref.py exit %d" % rc)

    mnist = ["--config", "mnist", "--batch", "3"]
    small = ["--config", "cifar", "--batch", "2", "--image-size", "16", "--C", "32", "--groups", "8",
             "--heads", "2", "--attn-res", "8"]
    uncond = small + ["--num-classes", "0", "--heads", "1"]
    expect("mnist_ok", "mnist", mnist, 0, show=True)
    expect("cifar_small_heads2_ok", "small", small, 0)
    expect("uncond_ok", "uncond", uncond, 0)
    expect("grad_perturbed", "mnist", mnist, 1, scale("grad.mid.attn.qkv.weight"),
           must_say="grad.mid.attn.qkv.weight")
    expect("grad_perturbed_small", "small", small, 1, scale("grad.up.1.blocks.0.res.norm1.bias", 3e-4),
           must_say="grad.up.1.blocks.0.res.norm1.bias")
    expect("output_perturbed", "mnist", mnist, 1, scale("output.out"), must_say="output.out")
    expect("input_grad_perturbed", "uncond", uncond, 1, scale("grad.input.x"), must_say="grad.input.x")
    expect("grad_one_element", "mnist", mnist, 1, one_element, must_say="grad.out_conv.weight")
    expect("param_missing", "mnist", mnist, 1, remove("param.down.1.blocks.0.res.skip.bias"),
           must_say="down.1.blocks.0.res.skip.bias")
    expect("param_extra", "mnist", mnist, 1, add_param("down.0.blocks.0.res.skip.weight"),
           must_say="down.0.blocks.0.res.skip.weight")
    expect("grad_missing", "mnist", mnist, 1, remove("grad.label_embed.weight"), must_say="grad.label_embed.weight")
    expect("grad_wrong_dtype", "mnist", mnist, 1, to_f64, must_say="dtype")
    # make_fake_dump's own fault options (a second, independent path to the same faults)
    expect("fake_dump_perturb_option", "mnist_perturb", mnist + ["--perturb", "grad.stem.bias"], 1,
           must_say="grad.stem.bias")

    # the checks are independent single-threaded processes: run them side by side
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        for ok, lines in pool.map(check, jobs):
            print("\n".join(lines))
            if not ok:
                fails.append(lines[-1] if len(lines) > 1 else lines[0])
    if len(jobs) != 13:
        fails.append("only %d of 13 checks ran" % len(jobs))

    if len(sys.argv) <= 1:
        shutil.rmtree(work, ignore_errors=True)
    if fails:
        print("\n".join(fails))
        print("torch_harness_selfcheck: %d expectation(s) failed" % len(fails))
        return 1
    print("torch_harness_selfcheck: all expectations held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
