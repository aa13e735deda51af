#!/usr/bin/env python3
"""Random-weight checkpoints at the real models' widths (reduced depth), in the diffusers layout,
stored in bf16 and sharded like the published ones, for the benchmark scripts (never committed).

Usage: scripts/reference/.venv/bin/python scripts/reference/make_bench_checkpoint.py NAME OUT_DIR
NAME: zimage-reduced    Z-Image-Turbo transformer width (3840, 30 heads) with 2 main + 1 + 1 refiner layers;
                        4 Qwen3-4B layers (the real layer shapes); the full FLUX.1 VAE; the real tokenizer.
      klein-4b-reduced  FLUX.2-klein-4B transformer width (24 x 128 heads, joint 7680) with 1 double
                        + 2 single blocks; Qwen3 at the 4B hidden width (2560) with the 27 layers the
                        pipeline reads (narrow attention and MLP); the full FLUX.2 VAE; the real
                        151k-token Qwen tokenizer.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import build_pipelines as bp  # noqa: E402
import tokenizers_build as tb  # noqa: E402
from refcommon import setup_torch  # noqa: E402


def klein_4b_reduced(out):
    from diffusers import Flux2KleinPipeline

    tokenizer = tb.build_real_tokenizer()
    vocab = (len(tokenizer) + 63) // 64 * 64
    text_encoder = bp.qwen3("causal", 2560, 27, 4, 2, 128, 1024, vocab, True, 11)
    transformer = bp.flux2_transformer(24, 128, (32, 32, 32, 32), 1, 2, 3 * 2560, 12)
    vae = bp.vae_flux2((128, 256, 512, 512), 32, 13)
    pipe = Flux2KleinPipeline(scheduler=bp.scheduler_klein(), vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                              transformer=transformer, is_distilled=True)
    for name in ("transformer", "text_encoder", "vae"):
        getattr(pipe, name).to(torch.bfloat16)
    pipe.save_pretrained(out, safe_serialization=True, max_shard_size="1GB")
    bp.normalise_json_files(out)


def zimage_reduced(out):
    from diffusers import ZImagePipeline

    tokenizer = tb.build_real_tokenizer()
    vocab = (len(tokenizer) + 63) // 64 * 64
    # Qwen3-4B's layer shapes (hidden 2560, 32 x 128 query / 8 x 128 key-value heads, MLP 9728), 4 layers.
    text_encoder = bp.qwen3("base", 2560, 4, 32, 8, 128, 9728, vocab, True, 21)
    transformer = bp.zimage_transformer(3840, 2, 1, 30, 2560, (32, 48, 48), (1536, 512, 512), 22)
    vae = bp.vae_autoencoder_kl((128, 256, 512, 512), 32, 23)
    pipe = ZImagePipeline(scheduler=bp.scheduler_zimage(), vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                          transformer=transformer)
    for name in ("transformer", "text_encoder", "vae"):
        getattr(pipe, name).to(torch.bfloat16)
    pipe.save_pretrained(out, safe_serialization=True, max_shard_size="1GB")
    bp.normalise_json_files(out)


BUILDERS = {"klein-4b-reduced": klein_4b_reduced, "zimage-reduced": zimage_reduced}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in BUILDERS:
        sys.exit(f"usage: make_bench_checkpoint.py {{{','.join(BUILDERS)}}} OUT_DIR")
    setup_torch()
    BUILDERS[sys.argv[1]](sys.argv[2])
    print(f"wrote {sys.argv[2]}")
