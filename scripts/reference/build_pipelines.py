"""Tiny random-weight Z-Image and FLUX.2-klein pipelines in the real diffusers layout.

Narrow widths, the real structure: every parameter (norm weights and biases, Z-Image's pad
tokens, the FLUX.2 VAE's BatchNorm running statistics included) is re-initialised from a seeded
generator at a scale that keeps activations O(1); the builder asserts that no tensor is all-zero
or constant, so a port that skips a weight cannot still match.
"""
import os
import shutil

import torch

from refcommon import normalise_json_files


def _gen(seed):
    return torch.Generator("cpu").manual_seed(seed)


def reinit(model, seed, gains=None):
    """Re-initialises every parameter and buffer of `model` (see the module docstring)."""
    g = _gen(seed)
    gains = gains or {}
    sd = model.state_dict()
    new = {}
    for name in sorted(sd):
        t = sd[name]
        if name.endswith("num_batches_tracked"):
            new[name] = torch.full_like(t, 1000)
            continue
        if name.endswith("running_mean"):
            new[name] = 0.5 * torch.randn(t.shape, generator=g)
        elif name.endswith("running_var"):
            new[name] = 0.5 + 1.5 * torch.rand(t.shape, generator=g)
        elif "pad_token" in name:
            new[name] = torch.randn(t.shape, generator=g)
        elif "embed_tokens" in name:
            new[name] = torch.randn(t.shape, generator=g)
        elif name.endswith("weight") and t.dim() == 1:
            new[name] = 1.0 + 0.25 * torch.randn(t.shape, generator=g)
        elif name.endswith("bias") and t.dim() == 1:
            new[name] = 0.1 * torch.randn(t.shape, generator=g)
        elif name.endswith("weight") and t.dim() >= 2:
            fan_in = 1
            for d in t.shape[1:]:
                fan_in *= d
            gain = 1.0
            for pattern, v in gains.items():
                if pattern in name:
                    gain = v
            new[name] = gain * torch.randn(t.shape, generator=g) / fan_in ** 0.5
        else:
            raise ValueError(f"no initialisation rule for {name} {tuple(t.shape)}")
        new[name] = new[name].to(t.dtype)
    model.load_state_dict(new, strict=True)
    tied = {n for n, _ in model.named_parameters(remove_duplicate=True)}
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        assert t.abs().max() > 0, f"{name} is all zero"
        if t.numel() > 1:
            assert t.float().std() > 0, f"{name} is constant"
    return tied


def zimage_transformer(dim, layers, refiners, heads, cap_feat_dim, axes_dims, axes_lens, seed):
    from diffusers import ZImageTransformer2DModel

    m = ZImageTransformer2DModel(
        all_patch_size=(2,), all_f_patch_size=(1,), in_channels=16, dim=dim, n_layers=layers,
        n_refiner_layers=refiners, n_heads=heads, n_kv_heads=heads, norm_eps=1e-5, qk_norm=True,
        cap_feat_dim=cap_feat_dim, rope_theta=256.0, t_scale=1000.0, axes_dims=list(axes_dims), axes_lens=list(axes_lens))
    reinit(m, seed)
    return m.eval()


def qwen3(kind, hidden, layers, heads, kv_heads, head_dim, intermediate, vocab, tie, seed):
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3Model

    cfg = Qwen3Config(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                      num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=head_dim,
                      max_position_embeddings=2048, rms_norm_eps=1e-6, tie_word_embeddings=tie,
                      rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, attention_bias=False,
                      dtype="float32")
    m = (Qwen3ForCausalLM if kind == "causal" else Qwen3Model)(cfg)
    reinit(m, seed)
    if tie and kind == "causal":
        m.tie_weights()
    return m.eval()


def vae_autoencoder_kl(channels, groups, seed):
    """The FLUX.1 VAE structure (Z-Image): 16 latent channels, no quant convs."""
    from diffusers import AutoencoderKL

    m = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * len(channels),
                      up_block_types=("UpDecoderBlock2D",) * len(channels), block_out_channels=tuple(channels),
                      layers_per_block=2, act_fn="silu", latent_channels=16, norm_num_groups=groups, sample_size=64,
                      scaling_factor=0.3611, shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False,
                      mid_block_add_attention=True, force_upcast=True)
    reinit(m, seed)
    return m.eval()


def vae_flux2(channels, groups, seed):
    from diffusers import AutoencoderKLFlux2

    m = AutoencoderKLFlux2(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * len(channels),
                           up_block_types=("UpDecoderBlock2D",) * len(channels), block_out_channels=tuple(channels),
                           layers_per_block=2, latent_channels=32, norm_num_groups=groups, sample_size=64,
                           use_quant_conv=True, use_post_quant_conv=True, mid_block_add_attention=True,
                           batch_norm_eps=1e-4, batch_norm_momentum=0.1, patch_size=(2, 2))
    reinit(m, seed)
    return m.eval()


def calibrate_decoder(vae, latent_channels, seed, target_std=0.45):
    """Scales conv_out so a decoded random latent has pixel std `target_std` in [-1, 1] (a real
    test image: enough contrast, little clipping)."""
    z = torch.randn((1, latent_channels, 8, 6), generator=_gen(seed))
    with torch.no_grad():
        x = vae.decode(z).sample
        w, b = vae.decoder.conv_out.weight, vae.decoder.conv_out.bias
        s = target_std / x.std().item()
        w.mul_(s)
        b.mul_(s)
        b.sub_(vae.decode(z).sample.mean(dim=(0, 2, 3)))


def flux2_transformer(heads, head_dim, axes, double_layers, single_layers, joint_dim, seed):
    from diffusers import Flux2Transformer2DModel

    m = Flux2Transformer2DModel(patch_size=1, in_channels=128, out_channels=None, num_layers=double_layers,
                                num_single_layers=single_layers, attention_head_dim=head_dim,
                                num_attention_heads=heads, joint_attention_dim=joint_dim,
                                timestep_guidance_channels=256, mlp_ratio=3.0, axes_dims_rope=tuple(axes),
                                rope_theta=2000, eps=1e-6, guidance_embeds=False)
    reinit(m, seed)
    return m.eval()


def scheduler_zimage():
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=False)


def scheduler_klein():
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=3.0, use_dynamic_shifting=True,
                                           base_shift=0.5, max_shift=1.15, base_image_seq_len=256,
                                           max_image_seq_len=4096, time_shift_type="exponential")


# name -> how to build it; "dtype" is the stored dtype, "shard" the max_shard_size (or None).
ZIMAGE_CHECKPOINTS = {
    "base": dict(dim=64, layers=2, refiners=2, heads=2, axes=(8, 12, 12), axes_lens=(256, 64, 64),
                 te=dict(hidden=32, layers=3, heads=4, kv_heads=2, head_dim=16, intermediate=64),
                 vae=((16, 32, 32, 32), 8), seed=1000, dtype=torch.float32, shard=None),
    "bf16": dict(dim=64, layers=2, refiners=2, heads=2, axes=(8, 12, 12), axes_lens=(256, 64, 64),
                 te=dict(hidden=32, layers=3, heads=4, kv_heads=2, head_dim=16, intermediate=64),
                 vae=((16, 32, 32, 32), 8), seed=2000, dtype=torch.bfloat16, shard=None),
    "sharded": dict(dim=96, layers=3, refiners=2, heads=3, axes=(8, 12, 12), axes_lens=(192, 48, 48),
                    te=dict(hidden=48, layers=4, heads=4, kv_heads=2, head_dim=24, intermediate=96),
                    vae=((16, 32, 32, 32), 8), seed=3000, dtype=torch.float32, shard="400KB"),
}

KLEIN_CHECKPOINTS = {
    "base": dict(heads=3, head_dim=16, axes=(4, 4, 4, 4), double=1, single=2,
                 te=dict(hidden=32, layers=28, heads=4, kv_heads=2, head_dim=16, intermediate=64, tie=False),
                 vae=((16, 32, 32, 32), 8), seed=4000, dtype=torch.float32, shard=None),
    "bf16": dict(heads=3, head_dim=16, axes=(4, 4, 4, 4), double=1, single=2,
                 te=dict(hidden=32, layers=28, heads=4, kv_heads=2, head_dim=16, intermediate=64, tie=False),
                 vae=((16, 32, 32, 32), 8), seed=5000, dtype=torch.bfloat16, shard=None),
    "sharded": dict(heads=4, head_dim=16, axes=(4, 4, 4, 4), double=2, single=3,
                    te=dict(hidden=40, layers=30, heads=4, kv_heads=2, head_dim=20, intermediate=80, tie=True),
                    vae=((16, 32, 32, 32), 8), seed=6000, dtype=torch.float32, shard="400KB"),
    # A base (non-distilled) model: classifier-free guidance when guidance > 1.
    "base_cfg": dict(heads=3, head_dim=16, axes=(4, 4, 4, 4), double=1, single=2,
                     te=dict(hidden=32, layers=28, heads=4, kv_heads=2, head_dim=16, intermediate=64, tie=False),
                     vae=((16, 32, 32, 32), 8), seed=7000, dtype=torch.float32, shard=None, distilled=False),
    # Another width and depth, stored in bf16 and sharded.
    "wide_bf16_sharded": dict(heads=5, head_dim=16, axes=(4, 4, 4, 4), double=2, single=1,
                              te=dict(hidden=24, layers=28, heads=2, kv_heads=1, head_dim=12, intermediate=48, tie=True),
                              vae=((16, 32, 32, 32), 8), seed=8000, dtype=torch.bfloat16, shard="200KB"),
}


def _save(pipe, folder, dtype, shard):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    if dtype != torch.float32:
        for name in ("transformer", "text_encoder", "vae"):
            getattr(pipe, name).to(dtype)
    kwargs = {"safe_serialization": True}
    if shard:
        # Shard the transformer and the text encoder; the VAE stays one file.
        pipe.save_pretrained(folder, **kwargs)
        for name in ("transformer", "text_encoder"):
            sub = os.path.join(folder, name)
            shutil.rmtree(sub)
            getattr(pipe, name).save_pretrained(sub, max_shard_size=shard, safe_serialization=True)
    else:
        pipe.save_pretrained(folder, **kwargs)
    normalise_json_files(folder)


def build_zimage(folder, spec, tokenizer):
    from diffusers import ZImagePipeline

    te = spec["te"]
    vocab = (len(tokenizer) + 63) // 64 * 64
    text_encoder = qwen3("base", te["hidden"], te["layers"], te["heads"], te["kv_heads"], te["head_dim"],
                         te["intermediate"], vocab, True, spec["seed"] + 1)
    transformer = zimage_transformer(spec["dim"], spec["layers"], spec["refiners"], spec["heads"], te["hidden"],
                                     spec["axes"], spec["axes_lens"], spec["seed"] + 2)
    vae = vae_autoencoder_kl(spec["vae"][0], spec["vae"][1], spec["seed"] + 3)
    calibrate_decoder(vae, 16, spec["seed"] + 4)
    pipe = ZImagePipeline(scheduler=scheduler_zimage(), vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                          transformer=transformer)
    _save(pipe, folder, spec["dtype"], spec["shard"])


def build_klein(folder, spec, tokenizer):
    from diffusers import Flux2KleinPipeline

    te = spec["te"]
    vocab = (len(tokenizer) + 63) // 64 * 64
    text_encoder = qwen3("causal", te["hidden"], te["layers"], te["heads"], te["kv_heads"], te["head_dim"],
                         te["intermediate"], vocab, te["tie"], spec["seed"] + 1)
    transformer = flux2_transformer(spec["heads"], spec["head_dim"], spec["axes"], spec["double"], spec["single"],
                                    3 * te["hidden"], spec["seed"] + 2)
    vae = vae_flux2(spec["vae"][0], spec["vae"][1], spec["seed"] + 3)
    calibrate_decoder(vae, 32, spec["seed"] + 4)
    pipe = Flux2KleinPipeline(scheduler=scheduler_klein(), vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                              transformer=transformer, is_distilled=spec.get("distilled", True))
    _save(pipe, folder, spec["dtype"], spec["shard"])
