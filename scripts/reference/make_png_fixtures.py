#!/usr/bin/env python3
"""PNG fixtures for ImageIO's reader, written by Pillow (deterministic).

Usage: scripts/reference/.venv/bin/python scripts/reference/make_png_fixtures.py
"""
import json
import os

import numpy as np
from PIL import Image, PngImagePlugin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Packages", "ImageIO", "Tests", "ImageIOTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)

h, w = 5, 7
y, x = np.mgrid[0:h, 0:w]
rgb = np.stack([x * 36, y * 60, (x + y) * 20], axis=-1).astype(np.uint8)
info = PngImagePlugin.PngInfo()
info.add_text("prompt", "a cat")
info.add_itxt("comment", "ünïcödé ✓")
Image.fromarray(rgb, "RGB").save(os.path.join(OUT, "pil_rgb.png"), pnginfo=info)
gray = (x * 30 + y).astype(np.uint8)
Image.fromarray(gray, "L").save(os.path.join(OUT, "pil_gray.png"))
Image.fromarray(rgb, "RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(os.path.join(OUT, "pil_palette.png"))
pal = np.asarray(Image.open(os.path.join(OUT, "pil_palette.png")).convert("RGB"))
expected = {"pil_rgb.png": rgb.tolist(), "pil_gray.png": np.stack([gray] * 3, -1).tolist(), "pil_palette.png": pal.tolist(),
            "pil_rgb_text": [["prompt", "a cat"], ["comment", "ünïcödé ✓"]]}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, sort_keys=True)
    f.write("\n")
print("wrote PNG fixtures to", os.path.relpath(OUT, ROOT))
