"""unet_ref.py - the reference UNet of /work/shared/reference/unet.md in PyTorch (torch 1.13, no 2.x APIs).

The state_dict names are the contract with the C engine (tests/torch/unet_dump.c writes
param.<name>.npy / grad.<name>.npy with exactly these names):

  time_embed.{0,2}.{weight,bias}            Linear(C,4C), SiLU, Linear(4C,4C)
  label_embed.weight                        [num_classes+1, 4C] (num_classes > 0; last row = null class)
  stem.{weight,bias}                        Conv3x3(in_ch -> C)
  down.{i}.blocks.{j}.res.{norm1,conv1,temb_proj,norm2,conv2,skip}.{weight,bias}
  down.{i}.blocks.{j}.attn.{norm,qkv,proj}.{weight,bias}
  down.{i}.downsample.{weight,bias}         (every level but the last)
  mid.{res1,attn,res2}.*
  up.{i}.blocks.{j}.{res,attn}.*            (j < num_res_blocks + 1; up.0 is the top level, run last)
  up.{i}.upsample.{weight,bias}             (every level but 0)
  out_norm.{weight,bias}, out_conv.{weight,bias}

A config is a dict with keys in_ch, image_size, C, ch_mult, num_res_blocks, attn_res, groups,
num_classes and optionally heads (default 1). CONFIGS holds the named ones.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "mnist": dict(in_ch=1, image_size=28, C=32, ch_mult=[1, 2, 2], num_res_blocks=2, attn_res=[7],
                  groups=8, num_classes=10, heads=1),
    "cifar": dict(in_ch=3, image_size=32, C=64, ch_mult=[1, 2, 2, 2], num_res_blocks=2, attn_res=[16],
                  groups=16, num_classes=10, heads=1),
}

GN_EPS = 1e-5


def get_config(name, **overrides):
    """A copy of the named config with some fields replaced."""
    if name not in CONFIGS:
        raise KeyError("unknown config '%s' (known: %s)" % (name, ", ".join(sorted(CONFIGS))))
    cfg = dict(CONFIGS[name])
    cfg["ch_mult"] = list(cfg["ch_mult"])
    cfg["attn_res"] = list(cfg["attn_res"])
    for k, v in overrides.items():
        if v is not None:
            cfg[k] = v
    return cfg


def timestep_embedding(t, dim):
    """Sinusoidal embedding of 1000*t: [sin(1000 t f_i) for i < dim/2] ++ [cos(...)],
    f_i = exp(-ln(10000) * i / (dim/2))."""
    if dim % 2:
        raise ValueError("time embedding dim must be even, got %d" % dim)
    half = dim // 2
    i = torch.arange(half, dtype=t.dtype, device=t.device)
    freqs = torch.exp(-math.log(10000.0) * i / half)
    arg = (1000.0 * t)[:, None] * freqs[None, :]
    return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim, groups):
        super().__init__()
        self.cin, self.cout = cin, cout
        self.norm1 = nn.GroupNorm(groups, cin, eps=GN_EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=GN_EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class AttnBlock(nn.Module):
    def __init__(self, ch, groups, heads=1):
        super().__init__()
        if ch % heads:
            raise ValueError("attention channels %d not divisible by heads %d" % (ch, heads))
        self.ch, self.heads = ch, heads
        self.norm = nn.GroupNorm(groups, ch, eps=GN_EPS)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        B, ch, H, W = x.shape
        nh, d = self.heads, ch // self.heads
        qkv = self.qkv(self.norm(x)).reshape(B, 3, nh, d, H * W)   # q first; heads = contiguous chunks
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]                    # [B, nh, d, N]
        logits = torch.matmul(q.transpose(2, 3), k) / math.sqrt(d)   # [B, nh, N(i), N(j)]
        w = torch.softmax(logits, dim=-1)                            # over keys j
        a = torch.matmul(v, w.transpose(2, 3))                       # [B, nh, d, N]: a_i = sum_j w_ij v_j
        return x + self.proj(a.reshape(B, ch, H, W))


class Block(nn.Module):
    """A ResBlock, then an AttnBlock when the resolution is in attn_res."""

    def __init__(self, cin, cout, temb_dim, groups, attn, heads):
        super().__init__()
        self.res = ResBlock(cin, cout, temb_dim, groups)
        self.attn = AttnBlock(cout, groups, heads) if attn else None

    def forward(self, x, temb):
        h = self.res(x, temb)
        return self.attn(h) if self.attn is not None else h


class DownLevel(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.downsample = None


class UpLevel(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.upsample = None


class Mid(nn.Module):
    def __init__(self, ch, temb_dim, groups, heads):
        super().__init__()
        self.res1 = ResBlock(ch, ch, temb_dim, groups)
        self.attn = AttnBlock(ch, groups, heads)
        self.res2 = ResBlock(ch, ch, temb_dim, groups)

    def forward(self, h, temb):
        return self.res2(self.attn(self.res1(h, temb)), temb)


def _down_size(r):
    return (r - 1) // 2 + 1   # Conv3x3 stride 2 pad 1


class UNet(nn.Module):
    def __init__(self, in_ch, C, ch_mult, num_res_blocks, attn_res, groups, num_classes, image_size,
                 heads=1):
        super().__init__()
        self.in_ch, self.C, self.ch_mult = in_ch, C, list(ch_mult)
        self.num_res_blocks, self.attn_res = num_res_blocks, list(attn_res)
        self.groups, self.num_classes, self.image_size, self.heads = groups, num_classes, image_size, heads
        T = 4 * C
        self.time_embed = nn.Sequential(nn.Linear(C, T), nn.SiLU(), nn.Linear(T, T))
        self.label_embed = nn.Embedding(num_classes + 1, T) if num_classes > 0 else None
        self.stem = nn.Conv2d(in_ch, C, 3, padding=1)

        res, ch = image_size, C
        skips = [ch]
        self.down = nn.ModuleList()
        for i, m in enumerate(ch_mult):
            lvl = DownLevel()
            for _ in range(num_res_blocks):
                lvl.blocks.append(Block(ch, C * m, T, groups, res in attn_res, heads))
                ch = C * m
                skips.append(ch)
            if i != len(ch_mult) - 1:
                lvl.downsample = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
                skips.append(ch)
                res = _down_size(res)
            self.down.append(lvl)

        self.mid = Mid(ch, T, groups, heads)

        ups = [None] * len(ch_mult)
        for i in reversed(range(len(ch_mult))):
            lvl = UpLevel()
            m = ch_mult[i]
            for _ in range(num_res_blocks + 1):
                lvl.blocks.append(Block(ch + skips.pop(), C * m, T, groups, res in attn_res, heads))
                ch = C * m
            if i != 0:
                lvl.upsample = nn.Conv2d(ch, ch, 3, padding=1)
                res = res * 2
            ups[i] = lvl
        assert not skips
        self.up = nn.ModuleList(ups)   # indexed by level; up.0 is run last

        self.out_norm = nn.GroupNorm(groups, ch, eps=GN_EPS)
        self.out_conv = nn.Conv2d(ch, in_ch, 3, padding=1)

    @classmethod
    def from_config(cls, cfg):
        return cls(in_ch=cfg["in_ch"], C=cfg["C"], ch_mult=cfg["ch_mult"], num_res_blocks=cfg["num_res_blocks"],
                   attn_res=cfg["attn_res"], groups=cfg["groups"], num_classes=cfg["num_classes"],
                   image_size=cfg["image_size"], heads=cfg.get("heads", 1))

    def forward(self, x, t, y=None):
        temb = self.time_embed(timestep_embedding(t, self.C).to(x.dtype))
        if self.label_embed is not None:
            if y is None:
                raise ValueError("conditional UNet: y is required (use index num_classes for the null class)")
            temb = temb + self.label_embed(y.long())
        elif y is not None:
            raise ValueError("unconditional UNet: y must be None")

        h = self.stem(x)
        hs = [h]
        for lvl in self.down:
            for blk in lvl.blocks:
                h = blk(h, temb)
                hs.append(h)
            if lvl.downsample is not None:
                h = lvl.downsample(h)
                hs.append(h)

        h = self.mid(h, temb)

        for i in reversed(range(len(self.up))):
            lvl = self.up[i]
            for blk in lvl.blocks:
                h = blk(torch.cat([h, hs.pop()], dim=1), temb)
            if lvl.upsample is not None:
                h = lvl.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        assert not hs
        return self.out_conv(F.silu(self.out_norm(h)))


def unet_flops(cfg, batch):
    """Forward FLOPs of the UNet, counted analytically: 2 * MACs of every conv, every linear
    (time MLP and temb projections; the label embedding is a lookup) and the two attention
    matmuls (q.k and w.v). Norms, activations, softmax and additions are not counted."""
    C, T, in_ch = cfg["C"], 4 * cfg["C"], cfg["in_ch"]
    nrb, attn_res = cfg["num_res_blocks"], cfg["attn_res"]
    macs = 0

    def conv(cin, cout, k, hw):
        return cin * cout * k * k * hw

    def resblock(cin, cout, r):
        hw = r * r
        m = conv(cin, cout, 3, hw) + T * cout + conv(cout, cout, 3, hw)
        if cin != cout:
            m += conv(cin, cout, 1, hw)
        return m

    def attn(ch, r):
        n = r * r
        return conv(ch, 3 * ch, 1, n) + 2 * n * n * ch + conv(ch, ch, 1, n)

    macs += C * T + T * T                         # time MLP
    r, ch = cfg["image_size"], C
    macs += conv(in_ch, C, 3, r * r)             # stem
    skips = [ch]
    mult = cfg["ch_mult"]
    for i, m in enumerate(mult):
        for _ in range(nrb):
            macs += resblock(ch, C * m, r)
            ch = C * m
            if r in attn_res:
                macs += attn(ch, r)
            skips.append(ch)
        if i != len(mult) - 1:
            r2 = _down_size(r)
            macs += conv(ch, ch, 3, r2 * r2)
            skips.append(ch)
            r = r2
    macs += 2 * resblock(ch, ch, r) + attn(ch, r)  # mid
    for i in reversed(range(len(mult))):
        m = mult[i]
        for _ in range(nrb + 1):
            macs += resblock(ch + skips.pop(), C * m, r)
            ch = C * m
            if r in attn_res:
                macs += attn(ch, r)
        if i != 0:
            r *= 2
            macs += conv(ch, ch, 3, r * r)
    macs += conv(ch, in_ch, 3, r * r)             # out conv
    return 2 * macs * batch
