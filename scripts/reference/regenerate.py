#!/usr/bin/env python3
"""Regenerates ReferenceExports/ from scratch (deterministic: running it twice gives identical files).

Usage: scripts/reference/regenerate   (creates the pinned venv on first use)
Set REFERENCE_EXPORTS_DIR to write elsewhere (e.g. to compare two runs).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import build_pipelines as bp  # noqa: E402
import export_cases as ex  # noqa: E402
import tokenizers_build as tb  # noqa: E402
from refcommon import EXPORTS, assert_no_machine_paths, save_png, setup_torch, write_json  # noqa: E402

CASES = {
    "zimage": [
        dict(name="nonsquare_4steps", checkpoint="base", prompt="A photo of a cat sitting on a wooden table, soft morning light",
             seed=42, steps=4, guidance=0.0, height=64, width=48),
        dict(name="cfg_guidance1.5", checkpoint="base", prompt="Cyberpunk city street at night, neon signs, rain",
             negative_prompt="blurry, low quality", seed=1234, steps=2, guidance=1.5, height=128, width=64),
        dict(name="bf16", checkpoint="bf16", prompt="A red fox in a snowy forest at dusk", seed=7, steps=2,
             guidance=0.0, height=64, width=64),
        dict(name="sharded", checkpoint="sharded", prompt="一只可爱的小猫坐在窗台上, watercolor", seed=123, steps=3,
             guidance=0.0, height=48, width=80),
    ],
    "klein": [
        dict(name="nonsquare_4steps", checkpoint="base", prompt="An astronaut riding a horse on the moon, digital art",
             seed=42, steps=4, guidance=1.0, height=64, width=48),
        dict(name="bf16", checkpoint="bf16", prompt="A bowl of ramen with eggs and green onions", seed=7, steps=2,
             guidance=1.0, height=64, width=64),
        dict(name="sharded", checkpoint="sharded", prompt="Vintage steam train crossing a stone bridge in autumn",
             seed=123, steps=3, guidance=1.0, height=48, width=80),
    ],
}
CHECKPOINTS = {"zimage": bp.ZIMAGE_CHECKPOINTS, "klein": bp.KLEIN_CHECKPOINTS}
BUILDERS = {"zimage": bp.build_zimage, "klein": bp.build_klein}
SIZE_LIMIT = 60 * 1024 * 1024


def make_test_image(path, height=48, width=64):
    """A non-square test image with gradients and hard edges."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / (width - 1)
    g = 255 * y / (height - 1)
    b = 128 + 100 * np.sin(x / 3.0) * np.cos(y / 5.0)
    img = np.stack([r, g, b], axis=-1)
    img[(x // 8 + y // 8) % 2 == 0, 2] = 30                      # checkerboard edges in blue
    inside = (x - 44) ** 2 + (y - 20) ** 2 < 12 ** 2
    img[inside] = [250, 240, 20]                                  # a yellow disc
    img[36:40, 4:60] = [10, 10, 10]                               # a dark bar
    save_png(path, np.clip(np.round(img), 0, 255).astype(np.uint8))


def main():
    setup_torch()
    out = os.environ.get("REFERENCE_EXPORTS_DIR", EXPORTS)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    test_image = os.path.join(out, "test_image.png")
    make_test_image(test_image)

    print("tokenizers ...", flush=True)
    tiny = tb.build_tiny_tokenizer()
    real = tb.build_real_tokenizer()
    n_texts = tb.export_tokenizer_fixture(real, os.path.join(out, "tokenizer"))

    index = {"cases": [], "vae_roundtrips": [], "noise": "noise", "tokenizer": "tokenizer", "test_image": "test_image.png"}
    for model, specs in CHECKPOINTS.items():
        for name, spec in specs.items():
            print(f"checkpoint {model}/{name} ...", flush=True)
            BUILDERS[model](os.path.join(out, model, "checkpoints", name), spec, tiny)
        for case in CASES[model]:
            case = dict(case, stored_dtype=str(specs[case["checkpoint"]]["dtype"]).replace("torch.", ""))
            folder = os.path.join(out, model, "checkpoints", case["checkpoint"])
            checks = ex.export_case(model, folder, case, os.path.join(out, model, "cases", case["name"]), out)
            print(f"case {model}/{case['name']}: {checks}", flush=True)
            index["cases"].append(f"{model}/cases/{case['name']}")
        ex.export_vae_roundtrip(model, os.path.join(out, model, "checkpoints", "base"), test_image,
                                os.path.join(out, model, "vae_roundtrip"), out)
        index["vae_roundtrips"].append(f"{model}/vae_roundtrip")
    ex.export_noise(os.path.join(out, "noise"))
    write_json(os.path.join(out, "index.json"), index)

    assert_no_machine_paths(out)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"ReferenceExports: {total / 1048576:.1f} MiB, {len(index['cases'])} cases, {n_texts} tokenizer texts")
    assert total < SIZE_LIMIT, f"exports are {total} bytes, over the {SIZE_LIMIT} limit"


if __name__ == "__main__":
    main()
