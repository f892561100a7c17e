#!/usr/bin/env python3
"""make_fixture.py ROOT [N] - writes a tiny MNIST-format training set under ROOT/mnist/:
train-images-idx3-ubyte (N images of 28x28, uint8) and train-labels-idx1-ubyte (N labels).
Class k (0..9) is a bright 8x8 square at a position set by k on a dark background, plus a
little deterministic texture, so a small U-Net learns it in a few dozen steps. Standard
library only; the bytes depend on N alone."""
import os
import struct
import sys

root = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
d = os.path.join(root, "mnist")
os.makedirs(d, exist_ok=True)
pix = bytearray()
labels = bytearray()
state = 12345
for i in range(n):
    k = i % 10
    r0, c0 = 3 + (k // 5) * 12, 2 + (k % 5) * 5
    for r in range(28):
        for c in range(28):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            v = (state >> 16) % 24
            if r0 <= r < r0 + 8 and c0 <= c < c0 + 8:
                v = 200 + (state >> 20) % 56
            pix.append(v)
    labels.append(k)
with open(os.path.join(d, "train-images-idx3-ubyte"), "wb") as f:
    f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(pix))
with open(os.path.join(d, "train-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(labels))
