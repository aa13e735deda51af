"""The demo model's sizes (diffusers / transformers constructor arguments) and sampling settings."""

# AutoencoderKL in the FLUX.1 layout Z-Image uses (no quant convs), 4 levels (8x), 4 latent channels.
VAE = dict(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
           up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(32, 64, 64, 64), layers_per_block=1,
           act_fn="silu", latent_channels=4, norm_num_groups=32, sample_size=128, use_quant_conv=False,
           use_post_quant_conv=False, mid_block_add_attention=True, force_upcast=False)

# Qwen3Model: the pipeline reads hidden_states[-2] (the output of the second-to-last layer).
TEXT_ENCODER = dict(hidden_size=64, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                    intermediate_size=192, max_position_embeddings=512, rope_theta=1000000.0, rms_norm_eps=1e-6,
                    tie_word_embeddings=True, attention_bias=False, hidden_act="silu")

# ZImageTransformer2DModel: 64 image tokens (16x16 latents, 2x2 patches) + the caption tokens.
DIT = dict(all_patch_size=(2,), all_f_patch_size=(1,), in_channels=4, dim=192, n_layers=6, n_refiner_layers=2,
           n_heads=4, n_kv_heads=4, norm_eps=1e-5, qk_norm=True, cap_feat_dim=64, rope_theta=256.0,
           t_scale=1000.0, axes_dims=[16, 16, 16], axes_lens=[256, 32, 32])

# Sampling: the scheduler's static shift, the step count and the guidance scale (Z-Image's sense:
# pos + g·(pos - neg), 0 = off) the model is used with.
SAMPLING = dict(shift=3.0, steps=8, guidance=0.0)
