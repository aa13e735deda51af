#!/usr/bin/env python3
"""Turns a training run (`train.py`'s weights and state.json) into the committed diffusers folder:
a `ZImagePipeline` (transformer, VAE with the measured latent scaling/shift, Qwen3Model text encoder,
tokenizer, FlowMatchEulerDiscreteScheduler) stored in bf16; then exports diffusers' own images and
tensors for a few prompts into ReferenceExports/demo/ (the oracle of the end-to-end test).

Usage: python assemble.py RUN_DIR TOKENIZER_DIR   (the pinned reference venv)
"""
import json
import os
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "reference"))

import torch  # noqa: E402

import export_cases as ex  # noqa: E402
from config import DIT, SAMPLING, TEXT_ENCODER, VAE  # noqa: E402
from refcommon import EXPORTS, normalise_json_files, setup_torch, write_json  # noqa: E402
from train import load_weights  # noqa: E402

ROOT = os.path.abspath(os.path.join(here, "..", ".."))
MODEL = os.path.join(ROOT, "Models", "zimage-demo")
LIMIT = 25 * 1000 * 1000
CASES = [
    dict(name="one_object", prompt="a red circle in the center on a blue background", seed=42),
    dict(name="two_objects", prompt="a yellow triangle at the top left and a white square at the bottom right on a purple background", seed=7),
    dict(name="black_background", prompt="a green square at the top right and a orange circle at the bottom left on a black background", seed=2026),
]


def build(run, tokenizer_dir):
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, ZImagePipeline, ZImageTransformer2DModel
    from transformers import AutoTokenizer, Qwen3Config, Qwen3Model

    state = json.load(open(os.path.join(run, "state.json")))
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    vae = AutoencoderKL(**VAE, scaling_factor=state["stats"]["scaling_factor"], shift_factor=state["stats"]["shift_factor"])
    vae.load_state_dict(load_weights(run, "vae"))
    te = Qwen3Model(Qwen3Config(vocab_size=len(tok), **TEXT_ENCODER))
    te.load_state_dict(load_weights(run, "te"))
    dit = ZImageTransformer2DModel(**DIT)
    dit.load_state_dict(load_weights(run, "dit"))
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=SAMPLING["shift"], use_dynamic_shifting=False)
    pipe = ZImagePipeline(scheduler=scheduler, vae=vae.eval(), text_encoder=te.eval(), tokenizer=tok, transformer=dit.eval())
    for m in (pipe.transformer, pipe.text_encoder, pipe.vae):
        m.to(torch.bfloat16)
    if os.path.isdir(MODEL):
        for name in os.listdir(MODEL):
            if name != "README.md":
                p = os.path.join(MODEL, name)
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    pipe.save_pretrained(MODEL, safe_serialization=True)
    normalise_json_files(MODEL)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(MODEL) for f in fs)
    print(f"{MODEL}: {total / 1e6:.1f} MB (training steps: VAE {state['vae_step']}, transformer {state['dit_step']}; "
          f"held-out colour test during training: {state.get('eval')})")
    assert total <= LIMIT, f"{total} bytes > {LIMIT}"


def export():
    out = os.path.join(EXPORTS, "demo")
    if os.path.isdir(out):
        shutil.rmtree(out)
    names = []
    for c in CASES:
        case = dict(c, steps=SAMPLING["steps"], guidance=SAMPLING["guidance"], height=128, width=128, stored_dtype="bfloat16")
        checks = ex.export_case("zimage", MODEL, case, os.path.join(out, "cases", c["name"]), EXPORTS, enforce=False)
        print(f"demo case {c['name']}: {checks}")
        names.append(f"demo/cases/{c['name']}")
    index_path = os.path.join(EXPORTS, "index.json")
    index = json.load(open(index_path))
    index["demo_cases"] = names
    write_json(index_path, index)


if __name__ == "__main__":
    setup_torch()
    if len(sys.argv) == 3:
        build(sys.argv[1], sys.argv[2])
    export()
