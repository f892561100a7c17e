#!/usr/bin/python3
"""make_fake_dump.py DIR [--config mnist|cifar] [--batch B] [overrides] [--perturb NAME] ...

Writes a dump in the layout torch_unet_dump produces (see check_parity.py), computed by the
PyTorch reference itself in float32, so the harness can be tested without the C side. Parameters
are random (GroupNorm scales and shifts too); y contains the null class. Fault injection:
  --perturb NAME      multiply dumped tensor NAME (e.g. grad.mid.attn.qkv.weight, output.out)
                      by (1 + --eps); default eps 1e-3
  --drop NAME         do not write file NAME (e.g. param.stem.bias, grad.input.x)
  --extra-param NAME  write an additional param.NAME.npy
Exit 0 on success, 1 on error, 77 when torch is missing.
"""
import argparse
import json
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


def parse_list(s):
    return [int(v) for v in s.split(",") if v.strip()] if s is not None else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--config", default="mnist", choices=sorted(unet_ref.CONFIGS))
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--C", type=int)
    ap.add_argument("--ch-mult")
    ap.add_argument("--num-res-blocks", type=int)
    ap.add_argument("--attn-res")
    ap.add_argument("--groups", type=int)
    ap.add_argument("--num-classes", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--perturb", action="append", default=[])
    ap.add_argument("--eps", type=float, default=1e-3)
    ap.add_argument("--drop", action="append", default=[])
    ap.add_argument("--extra-param", action="append", default=[])
    a = ap.parse_args()

    cfg = unet_ref.get_config(a.config, image_size=a.image_size, C=a.C, ch_mult=parse_list(a.ch_mult),
                              num_res_blocks=a.num_res_blocks, attn_res=parse_list(a.attn_res),
                              groups=a.groups, num_classes=a.num_classes, heads=a.heads)
    torch.manual_seed(a.seed)
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model = unet_ref.UNet.from_config(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".norm" in name or name.startswith("out_norm"):
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif name == "label_embed.weight":
                p.copy_(0.5 * torch.randn_like(p))

    B, S = a.batch, cfg["image_size"]
    x = torch.randn(B, cfg["in_ch"], S, S)
    t = torch.rand(B)
    cot = torch.randn(B, cfg["in_ch"], S, S)
    y = None
    if cfg["num_classes"] > 0:
        y = torch.randint(0, cfg["num_classes"] + 1, (B,), dtype=torch.int32)
        y[-1] = cfg["num_classes"]   # the null class is always exercised
    xg = x.clone().requires_grad_(True)
    out = model(xg, t, y)
    (out * cot).sum().backward()

    files = {"input.x": x, "input.t": t, "input.cot": cot, "output.out": out.detach(), "grad.input.x": xg.grad}
    if y is not None:
        files["input.y"] = y
    for name, p in model.named_parameters():
        files["param." + name] = p.detach()
        files["grad." + name] = p.grad
    for name in a.extra_param:
        files["param." + name] = torch.zeros(3)
    for name in a.perturb:
        if name not in files:
            print("make_fake_dump: no tensor %s to perturb" % name)
            return 1
        files[name] = files[name] * (1.0 + a.eps)
    for name in a.drop:
        if files.pop(name, None) is None:
            print("make_fake_dump: no tensor %s to drop" % name)
            return 1

    os.makedirs(a.dir, exist_ok=True)
    for f in os.listdir(a.dir):
        if f.endswith(".npy") or f == "meta.json":
            os.remove(os.path.join(a.dir, f))
    for name, ten in files.items():
        arr = ten.numpy()
        arr = arr.astype("<i4") if arr.dtype.kind == "i" else arr.astype("<f4")
        np.save(os.path.join(a.dir, name + ".npy"), np.ascontiguousarray(arr))
    meta = {"config": a.config, "batch": B, "in_ch": cfg["in_ch"], "C": cfg["C"], "ch_mult": cfg["ch_mult"],
            "num_res_blocks": cfg["num_res_blocks"], "attn_res": cfg["attn_res"], "groups": cfg["groups"],
            "num_classes": cfg["num_classes"], "heads": cfg.get("heads", 1)}
    with open(os.path.join(a.dir, "meta.json"), "w") as f:
        json.dump(meta, f)
    print("make_fake_dump: %d files in %s" % (len(files) + 1, a.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
