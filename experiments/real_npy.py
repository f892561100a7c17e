#!/usr/bin/env python3
"""real_npy.py - real images of an MNIST-format split as a .npy that `tinyflow fid` scores
(eval.samples=...): float32 [N, 1, H, W] in [-1, 1], optionally corrupted, plus the labels.

    real_npy.py DATA_DIR SPLIT N OUT.npy [--offset K] [--noise SIGMA] [--blur RADIUS] [--labels L.npy]

DATA_DIR holds {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (tinyflow data fetch).
--noise adds Gaussian noise of std SIGMA (in [-1, 1] units; then clipped), --blur applies a box
blur of the given radius (pixels) -- the corruptions of the README's FID sanity table.
Needs numpy only (Debian python3-numpy). Knows nothing about tinyflow's internals.
"""
import argparse, gzip, os, sys
import numpy as np


def read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            with (gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")) as f:
                data = f.read()
            break
    else:
        sys.exit(f"real_npy: {path}[.gz] not found (run `tinyflow data fetch` first)")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def box_blur(x, r):
    if r <= 0:
        return x
    k = 2 * r + 1
    pad = np.pad(x, ((0, 0), (r, r), (r, r)), mode="edge")
    c = pad.cumsum(1).cumsum(2)
    c = np.pad(c, ((0, 0), (1, 0), (1, 0)))
    h, w = x.shape[1:]
    s = c[:, k:k + h, k:k + w] - c[:, :h, k:k + w] - c[:, k:k + h, :w] + c[:, :h, :w]
    return s / (k * k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir"); ap.add_argument("split", choices=["train", "test"])
    ap.add_argument("n", type=int); ap.add_argument("out")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--blur", type=int, default=0)
    ap.add_argument("--labels")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    pre = "train" if a.split == "train" else "t10k"
    img = read_idx(os.path.join(a.data_dir, f"{pre}-images-idx3-ubyte"))
    lab = read_idx(os.path.join(a.data_dir, f"{pre}-labels-idx1-ubyte"))
    if a.offset + a.n > len(img):
        sys.exit(f"real_npy: {a.split} has {len(img)} images, asked for {a.offset}+{a.n}")
    x = img[a.offset:a.offset + a.n].astype(np.float64) / 127.5 - 1.0
    x = box_blur(x, a.blur)
    if a.noise > 0:
        x = x + np.random.default_rng(a.seed).normal(0.0, a.noise, x.shape)
    x = np.clip(x, -1.0, 1.0).astype(np.float32)[:, None]
    np.save(a.out, x)
    if a.labels:
        np.save(a.labels, lab[a.offset:a.offset + a.n].astype(np.int32))


if __name__ == "__main__":
    main()
