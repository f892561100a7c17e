#!/usr/bin/python3
"""check_parity.py DIR [--tol 1e-4] [--all]

Checks a dump of the C UNet (tests/torch/unet_dump.c -> torch_unet_dump DIR CONFIG) against the
PyTorch reference (unet_ref.py) in float64.

DIR holds meta.json, param.<name>.npy (float32, every state_dict name of the reference UNet, no
more, no fewer), input.{x,t,y,cot}.npy, output.out.npy, grad.<name>.npy for every parameter and
grad.input.x.npy. The reference runs the forward on the same (float32 -> float64) parameters and
inputs and the backward of L = sum(out * cot); every dumped tensor a is compared with the
reference b by rel = ||a - b||_2 / ||b||_2 (absolute ||a - b||_2 where ||b|| = 0), which must be
<= tol.

Exit status: 0 all within tolerance, 1 any mismatch or a malformed dump, 77 torch/numpy missing.
"""
import argparse
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print("SKIP: torch/numpy not importable with %s: %s" % (sys.executable, e))
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet_ref  # noqa: E402

META_KEYS = ("in_ch", "C", "ch_mult", "num_res_blocks", "attn_res", "groups", "num_classes")


class DumpError(Exception):
    pass


def load(path, dtype, shape=None):
    if not os.path.isfile(path):
        raise DumpError("missing file %s" % os.path.basename(path))
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:   # noqa: BLE001 - any unreadable file is a malformed dump
        raise DumpError("cannot read %s: %s" % (path, e))
    if a.dtype != np.dtype(dtype):
        raise DumpError("%s: dtype %s, expected %s" % (os.path.basename(path), a.dtype.str, dtype))
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise DumpError("%s: shape %s, expected %s" % (os.path.basename(path), tuple(a.shape), tuple(shape)))
    return a


def config_from_meta(meta, x_shape):
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise DumpError("meta.json lacks %s" % ", ".join(missing))
    cfg = {k: meta[k] for k in META_KEYS}
    cfg["heads"] = meta.get("heads", 1)
    if len(x_shape) != 4 or x_shape[2] != x_shape[3]:
        raise DumpError("input.x.npy shape %s is not [B, C, H, H]" % (tuple(x_shape),))
    cfg["image_size"] = x_shape[2]
    if "image_size" in meta and meta["image_size"] != cfg["image_size"]:
        raise DumpError("meta image_size %s != input.x size %d" % (meta["image_size"], cfg["image_size"]))
    if x_shape[1] != cfg["in_ch"]:
        raise DumpError("input.x has %d channels, meta in_ch %d" % (x_shape[1], cfg["in_ch"]))
    if "batch" in meta and meta["batch"] != x_shape[0]:
        raise DumpError("meta batch %s != input.x batch %d" % (meta["batch"], x_shape[0]))
    return cfg


def compare(a, b):
    """(rel, max abs diff) of dumped a against reference b (float64 arrays)."""
    d = a - b
    nd, nb = float(np.linalg.norm(d.ravel())), float(np.linalg.norm(b.ravel()))
    rel = nd / nb if nb > 0 else nd
    mx = float(np.max(np.abs(d))) if d.size else 0.0
    if not np.all(np.isfinite(a)):
        rel = float("nan")
    return rel, mx


def run(d, tol, show_all):
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    x = load(os.path.join(d, "input.x.npy"), "<f4")
    cfg = config_from_meta(meta, x.shape)
    B = x.shape[0]
    model = unet_ref.UNet.from_config(cfg).double()
    sd = model.state_dict()

    # parameters: exactly the reference names
    files = sorted(os.listdir(d))
    pnames = {f[len("param."):-len(".npy")] for f in files if f.startswith("param.") and f.endswith(".npy")}
    missing, extra = sorted(set(sd) - pnames), sorted(pnames - set(sd))
    if missing or extra:
        msg = ["parameter names differ from the reference UNet (%d expected, %d dumped)" % (len(sd), len(pnames))]
        if missing:
            msg.append("  missing %d: %s" % (len(missing), ", ".join(missing)))
        if extra:
            msg.append("  unexpected %d: %s" % (len(extra), ", ".join(extra)))
        raise DumpError("\n".join(msg))
    with torch.no_grad():
        for name, ref in sd.items():
            p = load(os.path.join(d, "param.%s.npy" % name), "<f4", ref.shape)
            ref.copy_(torch.from_numpy(p.astype(np.float64)))

    t = load(os.path.join(d, "input.t.npy"), "<f4", (B,))
    cot = load(os.path.join(d, "input.cot.npy"), "<f4", x.shape)
    y = None
    if cfg["num_classes"] > 0:
        y = load(os.path.join(d, "input.y.npy"), "<i4", (B,))
        if y.min() < 0 or y.max() > cfg["num_classes"]:
            raise DumpError("input.y has labels outside [0, %d]" % cfg["num_classes"])
        y = torch.from_numpy(y.astype(np.int64))

    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    out = model(xt, torch.from_numpy(t.astype(np.float64)), y)
    loss = (out * torch.from_numpy(cot.astype(np.float64))).sum()
    model.zero_grad()
    loss.backward()

    ref = {"output.out": out.detach().numpy(), "grad.input.x": xt.grad.numpy()}
    params = dict(model.named_parameters())
    for name in sd:
        ref["grad." + name] = params[name].grad.numpy()

    gnames = {f[:-len(".npy")] for f in files if f.startswith("grad.") and f.endswith(".npy")}
    extra_g = sorted(gnames - set(ref))
    if extra_g:
        raise DumpError("unexpected gradient files: %s" % ", ".join(extra_g))

    rows, problems = [], []
    for key, b in ref.items():
        try:
            a = load(os.path.join(d, key + ".npy"), "<f4", b.shape).astype(np.float64)
        except DumpError as e:
            problems.append(str(e))
            continue
        rel, mx = compare(a, b)
        rows.append((key, rel, mx, rel <= tol))

    def badness(r):
        return math.inf if math.isnan(r[1]) else r[1]

    rows.sort(key=badness, reverse=True)
    nfail = sum(1 for r in rows if not r[3])
    print("parity %s: config %s, batch %d, image %d, heads %s; reference float64; tol %g"
          % (d, meta.get("config", "?"), B, cfg["image_size"], cfg["heads"], tol))
    shown = rows if show_all else [r for i, r in enumerate(rows) if i < 10 or not r[3]]
    w = max([len(r[0]) for r in shown] + [4])
    print("  %-*s  %11s  %11s" % (w, "name", "rel", "max|diff|"))
    for name, rel, mx, ok in shown:
        print("  %-*s  %11.3e  %11.3e%s" % (w, name, rel, mx, "" if ok else "  FAIL"))
    if len(shown) < len(rows):
        print("  ... %d more, all within tolerance" % (len(rows) - len(shown)))
    for p in problems:
        print("  PROBLEM: %s" % p)
    total = len(ref)
    print("%s: %d/%d tensors within rel %g (%d failed, %d missing or malformed)"
          % ("PASS" if nfail == 0 and not problems else "FAIL", total - nfail - len(problems), total, tol,
             nfail, len(problems)))
    return 0 if nfail == 0 and not problems else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--all", action="store_true", help="print every tensor, not the worst 10")
    args = ap.parse_args()
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    try:
        return run(args.dir, args.tol, args.all)
    except (DumpError, OSError, ValueError, KeyError, RuntimeError) as e:
        print("FAIL: bad dump in %s: %s" % (args.dir, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
