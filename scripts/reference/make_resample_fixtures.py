#!/usr/bin/env python3
"""Pillow's resize outputs for the Swift port of its resampler (ImageIO `Resample`): a structured
random RGB image, resized with BILINEAR / BICUBIC / LANCZOS to sizes that shrink, enlarge and
change one axis only, written as PNGs (lossless) with a JSON index.

Usage: scripts/reference/.venv/bin/python scripts/reference/make_resample_fixtures.py
"""
import json
import os

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "..", "Packages", "ImageIO", "Tests", "ImageIOTests", "Fixtures", "resample")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261130)
h, w = 37, 53
yy, xx = np.mgrid[0:h, 0:w]
base = np.stack([(xx * 5) % 256, (yy * 7) % 256, ((xx + yy) * 3) % 256], axis=-1).astype(np.int64)
img = np.clip(base + rng.integers(-40, 41, size=(h, w, 3)), 0, 255).astype(np.uint8)
img[10:20, 15:30] = [250, 5, 5]  # hard edges: ringing and clipping
Image.fromarray(img).save(os.path.join(out, "input.png"))
cases = []
filters = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
for name, f in filters.items():
    for (tw, th) in [(32, 24), (80, 60), (53, 20), (29, 37), (64, 48), (7, 5), (50, 10), (80, 20), (45, 21)]:
        r = Image.fromarray(img).resize((tw, th), resample=f)
        fn = f"{name}_{tw}x{th}.png"
        r.save(os.path.join(out, fn))
        cases.append({"filter": name, "width": tw, "height": th, "file": fn})
import PIL  # noqa: E402

json.dump({"pillow": PIL.__version__, "input": "input.png", "cases": cases}, open(os.path.join(out, "index.json"), "w"), indent=1)
print(len(cases), "cases, Pillow", PIL.__version__)
