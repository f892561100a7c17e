#!/usr/bin/env python3
"""montage.py - stack one-row sample grids (PNG) into one labelled figure: each input becomes a
row with its label on the left. Used for the README's solver x steps figures.

    montage.py OUT.png LABEL=PATH.png [LABEL=PATH.png ...]

Needs Debian python3-pil. Knows nothing about tinyflow beyond reading PNGs.
"""
import sys
from PIL import Image, ImageDraw, ImageFont


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = [a.split("=", 1) for a in sys.argv[2:]]
    imgs = [Image.open(p).convert("RGB") for _, p in rows]
    w = max(i.width for i in imgs)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 14)
    except OSError:
        font = ImageFont.load_default()
    lw = 150
    out = Image.new("RGB", (lw + w, sum(i.height for i in imgs)), "white")
    d = ImageDraw.Draw(out)
    y = 0
    for (label, _), im in zip(rows, imgs):
        out.paste(im, (lw, y))
        d.text((6, y + im.height // 2 - 8), label, fill="black", font=font)
        y += im.height
    out.save(sys.argv[1])


if __name__ == "__main__":
    main()
