#!/usr/bin/python3
"""test_unet_ref.py - checks of the reference UNet itself (exit 0 pass, 1 fail, 77 no torch):
the state_dict key list and shapes against an independent enumeration of the spec, the analytic
FLOP count against conv/linear hooks, attention against a per-pixel loop (1 and 2 heads), the time
embedding formula, the skip/upsample structure and the null class."""
import math
import os
import sys

try:
    import torch
    import torch.nn as nn
except ImportError as e:
    print("SKIP: torch not importable: %s" % e)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet_ref  # noqa: E402

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


def expected_keys(cfg):
    """name -> shape, written from unet.md independently of the module code."""
    C, T, nrb, g = cfg["C"], 4 * cfg["C"], cfg["num_res_blocks"], cfg["groups"]
    keys = {}

    def lin(p, i, o):
        keys[p + ".weight"] = (o, i)
        keys[p + ".bias"] = (o,)

    def conv(p, i, o, k):
        keys[p + ".weight"] = (o, i, k, k)
        keys[p + ".bias"] = (o,)

    def gn(p, c):
        keys[p + ".weight"] = (c,)
        keys[p + ".bias"] = (c,)

    def res(p, i, o):
        gn(p + ".norm1", i)
        conv(p + ".conv1", i, o, 3)
        lin(p + ".temb_proj", T, o)
        gn(p + ".norm2", o)
        conv(p + ".conv2", o, o, 3)
        if i != o:
            conv(p + ".skip", i, o, 1)

    def attn(p, c):
        gn(p + ".norm", c)
        conv(p + ".qkv", c, 3 * c, 1)
        conv(p + ".proj", c, c, 1)

    lin("time_embed.0", C, T)
    lin("time_embed.2", T, T)
    if cfg["num_classes"] > 0:
        keys["label_embed.weight"] = (cfg["num_classes"] + 1, T)
    conv("stem", cfg["in_ch"], C, 3)
    r, ch, skips, L = cfg["image_size"], C, [C], len(cfg["ch_mult"])
    for i, m in enumerate(cfg["ch_mult"]):
        for j in range(nrb):
            res("down.%d.blocks.%d.res" % (i, j), ch, C * m)
            ch = C * m
            if r in cfg["attn_res"]:
                attn("down.%d.blocks.%d.attn" % (i, j), ch)
            skips.append(ch)
        if i < L - 1:
            conv("down.%d.downsample" % i, ch, ch, 3)
            skips.append(ch)
            r = (r + 1) // 2
    res("mid.res1", ch, ch)
    attn("mid.attn", ch)
    res("mid.res2", ch, ch)
    for i in reversed(range(L)):
        m = cfg["ch_mult"][i]
        for j in range(nrb + 1):
            res("up.%d.blocks.%d.res" % (i, j), ch + skips.pop(), C * m)
            ch = C * m
            if r in cfg["attn_res"]:
                attn("up.%d.blocks.%d.attn" % (i, j), ch)
        if i > 0:
            conv("up.%d.upsample" % i, ch, ch, 3)
            r *= 2
    gn("out_norm", ch)
    conv("out_conv", ch, cfg["in_ch"], 3)
    del g
    return keys


def hook_flops(model, x, t, y):
    """2*MACs of Conv2d/Linear modules seen by forward hooks, plus the attention matmuls."""
    total = [0]

    def conv_hook(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total[0] += 2 * out.numel() * (mod.in_channels // mod.groups) * k

    def lin_hook(mod, inp, out):
        total[0] += 2 * out.numel() * mod.in_features

    def attn_hook(mod, inp, out):
        B, ch, H, W = inp[0].shape
        total[0] += 2 * 2 * B * (H * W) ** 2 * ch

    hs = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hs.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            hs.append(mod.register_forward_hook(lin_hook))
        elif isinstance(mod, unet_ref.AttnBlock):
            hs.append(mod.register_forward_hook(attn_hook))
    with torch.no_grad():
        model(x, t, y)
    for h in hs:
        h.remove()
    return total[0]


def naive_attn(blk, x):
    """Per-pixel loop version of AttnBlock.forward (float64)."""
    B, ch, H, W = x.shape
    nh, d = blk.heads, ch // blk.heads
    qkv = blk.qkv(blk.norm(x)).reshape(B, 3 * ch, H * W)
    a = torch.zeros(B, ch, H * W, dtype=x.dtype)
    for b in range(B):
        for h in range(nh):
            q = qkv[b, h * d:(h + 1) * d]
            k = qkv[b, ch + h * d:ch + (h + 1) * d]
            v = qkv[b, 2 * ch + h * d:2 * ch + (h + 1) * d]
            for i in range(H * W):
                s = torch.tensor([float(q[:, i] @ k[:, j]) / math.sqrt(d) for j in range(H * W)],
                                 dtype=x.dtype)
                w = torch.exp(s - s.max())
                w = w / w.sum()
                a[b, h * d:(h + 1) * d, i] = (v * w[None, :]).sum(1)
    return x + blk.proj(a.reshape(B, ch, H, W))


def main():
    torch.manual_seed(0)
    counts = {}
    for name in ("mnist", "cifar"):
        cfg = unet_ref.get_config(name)
        model = unet_ref.UNet.from_config(cfg)
        sd = model.state_dict()
        exp = expected_keys(cfg)
        got = {k: tuple(v.shape) for k, v in sd.items()}
        missing, extra = sorted(set(exp) - set(got)), sorted(set(got) - set(exp))
        check(not missing, "%s: keys missing from state_dict: %s" % (name, missing[:10]))
        check(not extra, "%s: unexpected state_dict keys: %s" % (name, extra[:10]))
        bad = [k for k in exp if k in got and exp[k] != got[k]]
        check(not bad, "%s: shape mismatch: %s" % (name, [(k, exp[k], got[k]) for k in bad[:5]]))
        # state_dict == parameters (no buffers): the dump has one param.<name>.npy per key.
        check(set(dict(model.named_parameters())) == set(sd), "%s: state_dict has buffers" % name)
        counts[name] = len(sd)
        B = 2
        x = torch.randn(B, cfg["in_ch"], cfg["image_size"], cfg["image_size"])
        t, y = torch.rand(B), torch.tensor([3, cfg["num_classes"]])
        out = model(x, t, y)
        check(out.shape == x.shape, "%s: output shape %s" % (name, tuple(out.shape)))
        fh, fa = hook_flops(model, x, t, y), unet_ref.unet_flops(cfg, B)
        check(fh == fa, "%s: unet_flops %d != hook count %d" % (name, fa, fh))
        print("%s: %d state_dict keys, %d parameters, %.4f GFLOP forward per image"
              % (name, len(sd), sum(p.numel() for p in model.parameters()), fa / B / 1e9))

    # The named config sizes (28 -> 14 -> 7, attention at 7 only; cifar attention at 16 only).
    m = unet_ref.UNet.from_config(unet_ref.get_config("mnist"))
    check(m.down[2].blocks[0].attn is not None and m.down[1].blocks[0].attn is None, "mnist attn placement")
    check(m.up[0].upsample is None and m.up[1].upsample is not None and m.down[2].downsample is None,
          "mnist up/down sampling placement")
    c = unet_ref.UNet.from_config(unet_ref.get_config("cifar"))
    check(c.down[1].blocks[1].attn is not None and c.down[0].blocks[0].attn is None
          and c.up[1].blocks[2].attn is not None and c.up[2].blocks[0].attn is None, "cifar attn placement")

    # Attention against the loop, 1 and 2 heads, float64.
    for heads in (1, 2):
        blk = unet_ref.AttnBlock(8, 2, heads).double()
        for p in blk.parameters():
            nn.init.normal_(p, std=0.5)
        x = torch.randn(2, 8, 3, 3, dtype=torch.float64)
        err = (blk(x) - naive_attn(blk, x)).abs().max().item()
        check(err < 1e-10, "attention heads=%d differs from loop by %g" % (heads, err))

    # Heads=2 actually changes the result (the split is used).
    b1 = unet_ref.AttnBlock(8, 2, 1).double()
    b2 = unet_ref.AttnBlock(8, 2, 2).double()
    b2.load_state_dict(b1.state_dict())
    x = torch.randn(1, 8, 3, 3, dtype=torch.float64)
    check((b1(x) - b2(x)).abs().max().item() > 1e-6, "heads=2 gives the heads=1 result")

    # Time embedding: element i = sin(1000 t f_i), element C/2 + i = cos(1000 t f_i).
    t = torch.tensor([0.3, 0.77], dtype=torch.float64)
    e = unet_ref.timestep_embedding(t, 32)
    for b in range(2):
        for i in (0, 1, 7, 15):
            f = math.exp(-math.log(10000.0) * i / 16)
            check(abs(e[b, i].item() - math.sin(1000 * t[b].item() * f)) < 1e-12, "temb sin %d" % i)
            check(abs(e[b, 16 + i].item() - math.cos(1000 * t[b].item() * f)) < 1e-12, "temb cos %d" % i)

    # Ablations: the label embedding row y is added (null row included), and an unconditional model
    # has no label_embed and refuses y.
    model = unet_ref.UNet.from_config(unet_ref.get_config("mnist", C=16, groups=4, ch_mult=[1, 2],
                                                           attn_res=[14])).double()
    x, tt = torch.randn(2, 1, 28, 28, dtype=torch.float64), torch.rand(2, dtype=torch.float64)
    with torch.no_grad():
        model.label_embed.weight.normal_()
        o1 = model(x, tt, torch.tensor([10, 10]))
        o2 = model(x, tt, torch.tensor([1, 10]))
    check((o1[0] - o2[0]).abs().max().item() > 1e-6 and (o1[1] - o2[1]).abs().max().item() == 0,
          "label embedding is per sample")
    u = unet_ref.UNet.from_config(unet_ref.get_config("mnist", num_classes=0))
    check(not any(k.startswith("label_embed") for k in u.state_dict()), "unconditional has label_embed")
    check(u(torch.randn(1, 1, 28, 28), torch.rand(1)).shape == (1, 1, 28, 28), "unconditional forward")
    try:
        u(torch.randn(1, 1, 28, 28), torch.rand(1), torch.tensor([0]))
        check(False, "unconditional model accepted y")
    except ValueError:
        pass

    print("state_dict keys: mnist %d, cifar %d" % (counts["mnist"], counts["cifar"]))
    if FAILS:
        print("test_unet_ref: %d failed" % len(FAILS))
        return 1
    print("test_unet_ref: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
