"""Tiny mflux 0.24 models built from mflux's own module classes, loaded with mflux's own loader.

Shared by make_mflux_cases.py (writes ReferenceExports/mflux/) and check_mflux_load.py (checks a
folder another program wrote against those exports). Run with the mflux venv
(scripts/reference/setup-mflux): mflux 0.24.0, mlx 0.32.2 on MLX's CPU backend.

What is mflux's and what is ours:
  * module classes, latent creators, prompt encoders, the predict closure (mx.compile'd, as in the
    pipelines), the VAE decode path (VAEUtil / decode_packed_latents with the decode mode the
    initializer sets), the saver (ModelSaver, the `mflux-save` CLI) and the whole loader
    (ZImage / Flux2Klein.__init__ -> *Initializer.init -> WeightLoader, TokenizerLoader,
    WeightApplier) are mflux's own code;
  * ours: the tiny sizes, the seeded random weights, and one patch: `tiny_models()` replaces the
    initializers' `_init_models` (which builds full-size modules) by a builder of the same module
    classes at tiny sizes. Everything before and after it in the initializer runs unchanged.

The Z-Image VAE classes hard-code their widths (Encoder()/Decoder() take no arguments), so the
tiny Z-Image VAE is assembled from mflux's own sub-blocks (ConvIn, DownEncoderBlock,
UNetMidBlock, UpDecoderBlock, ConvNormOut, ConvOut) inside instances of mflux's Encoder, Decoder
and VAE classes, following the diffusers AutoencoderKL layout rules; its module tree and key
names are those of the real VAE, only narrower. FLUX.2's Encoder/Decoder take the widths as
arguments and are used directly.
"""
import contextlib
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may touch the network

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402
from mlx import nn  # noqa: E402
from mlx.utils import tree_flatten, tree_unflatten  # noqa: E402

from mflux.models.common.config.model_config import ModelConfig  # noqa: E402
from mflux.models.common.vae.block_decoder import VAEBlockDecoder  # noqa: E402
from mflux.models.common.vae.vae_util import VAEUtil  # noqa: E402
from mflux.models.flux2.flux2_initializer import Flux2Initializer  # noqa: E402
from mflux.models.flux2.latent_creator.flux2_latent_creator import Flux2LatentCreator  # noqa: E402
from mflux.models.flux2.model.flux2_text_encoder.qwen3_text_encoder import Qwen3TextEncoder  # noqa: E402
from mflux.models.flux2.model.flux2_transformer.transformer import Flux2Transformer  # noqa: E402
from mflux.models.flux2.model.flux2_vae.decoder.decoder import Flux2Decoder  # noqa: E402
from mflux.models.flux2.model.flux2_vae.encoder.encoder import Flux2Encoder  # noqa: E402
from mflux.models.flux2.model.flux2_vae.vae import Flux2VAE  # noqa: E402
from mflux.models.flux2.variants.txt2img.flux2_klein import Flux2Klein  # noqa: E402
from mflux.models.flux2.weights.flux2_weight_definition import Flux2KleinWeightDefinition  # noqa: E402
from mflux.models.z_image.latent_creator.z_image_latent_creator import ZImageLatentCreator  # noqa: E402
from mflux.models.z_image.model.z_image_text_encoder.text_encoder import TextEncoder  # noqa: E402
from mflux.models.z_image.model.z_image_transformer.transformer import ZImageTransformer  # noqa: E402
from mflux.models.z_image.model.z_image_vae.common.unet_mid_block import UNetMidBlock  # noqa: E402
from mflux.models.z_image.model.z_image_vae.decoder import conv_in as zdec_conv_in  # noqa: E402
from mflux.models.z_image.model.z_image_vae.decoder import conv_norm_out as zdec_norm_out  # noqa: E402
from mflux.models.z_image.model.z_image_vae.decoder import conv_out as zdec_conv_out  # noqa: E402
from mflux.models.z_image.model.z_image_vae.decoder.decoder import Decoder as ZDecoder  # noqa: E402
from mflux.models.z_image.model.z_image_vae.decoder.up_decoder_block import UpDecoderBlock  # noqa: E402
from mflux.models.z_image.model.z_image_vae.encoder import conv_in as zenc_conv_in  # noqa: E402
from mflux.models.z_image.model.z_image_vae.encoder import conv_norm_out as zenc_norm_out  # noqa: E402
from mflux.models.z_image.model.z_image_vae.encoder import conv_out as zenc_conv_out  # noqa: E402
from mflux.models.z_image.model.z_image_vae.encoder.down_encoder_block import DownEncoderBlock  # noqa: E402
from mflux.models.z_image.model.z_image_vae.encoder.encoder import Encoder as ZEncoder  # noqa: E402
from mflux.models.z_image.model.z_image_vae.vae import VAE as ZVAE  # noqa: E402
from mflux.models.z_image.variants.z_image import ZImage  # noqa: E402
from mflux.models.z_image.weights.z_image_weight_definition import ZImageWeightDefinition  # noqa: E402
from mflux.models.z_image.z_image_initializer import ZImageInitializer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "ReferenceExports" / "mflux"

PROMPT = "a red fox in the snow"
SIGMA = 0.75  # the one noise level the transformer is evaluated at
HEIGHT = WIDTH = 64  # image size of every input (latents 8x8, klein tokens 4x4)
SEED = 20260601  # weights: numpy default_rng([SEED, family, component]); inputs: mx.random.key(SEED + k)

# ---------------------------------------------------------------------------------------------
# Sizes. Everything not listed is the mflux default of that class.
# Every Linear / Embedding input width is a multiple of 64 (MLX quantizes in groups of 64).
# ---------------------------------------------------------------------------------------------
VAE_BLOCK_OUT_CHANNELS = (32, 32, 64, 64)  # diffusers-equivalent config of both tiny VAEs
VAE_LAYERS_PER_BLOCK = 1  # decoder blocks get layers_per_block + 1 = 2 resnets (diffusers rule)
VAE_NORM_GROUPS = 32

FAMILIES = {
    "zimage": {
        "pipeline": ZImage,
        "initializer": ZImageInitializer,
        "definition": ZImageWeightDefinition,
        "registry_key": "z-image-turbo",  # mflux-save --base-model (ZImageTurbo is ZImage)
        "model_config": ModelConfig.z_image_turbo,
        "tokenizer_name": "z_image",
        "tokenizer_source": ROOT / "ReferenceExports" / "zimage" / "checkpoints" / "base",
        "transformer": dict(dim=384, n_layers=1, n_refiner_layers=1, n_heads=3, cap_feat_dim=64),
        "text_encoder": dict(
            vocab_size=704, hidden_size=64, num_hidden_layers=3, num_attention_heads=2,
            num_key_value_heads=1, head_dim=32, intermediate_size=128,
        ),
        "vae": dict(
            block_out_channels=list(VAE_BLOCK_OUT_CHANNELS), layers_per_block=VAE_LAYERS_PER_BLOCK,
            norm_num_groups=VAE_NORM_GROUPS, latent_channels=16,
            scaling_factor=ZVAE.scaling_factor, shift_factor=ZVAE.shift_factor,
        ),
    },
    "klein": {
        "pipeline": Flux2Klein,
        "initializer": Flux2Initializer,
        "definition": Flux2KleinWeightDefinition,
        "registry_key": "flux2-klein-4b",
        "model_config": ModelConfig.flux2_klein_4b,
        "tokenizer_name": "qwen3",
        "tokenizer_source": ROOT / "ReferenceExports" / "klein" / "checkpoints" / "base",
        "transformer": dict(
            num_layers=1, num_single_layers=1, attention_head_dim=128, num_attention_heads=1,
            joint_attention_dim=192, in_channels=128,
        ),
        # The klein prompt encoder reads hidden states 9, 18 and 27 (index 0 = embeddings), so at
        # least 27 layers are needed; 28 leaves one unused trailing layer (and the unused final
        # norm) as the real 36-layer encoder does.
        "text_encoder": dict(
            vocab_size=704, hidden_size=64, num_hidden_layers=28, num_attention_heads=2,
            num_key_value_heads=1, head_dim=32, intermediate_size=128,
        ),
        "vae": dict(
            block_out_channels=list(VAE_BLOCK_OUT_CHANNELS), layers_per_block=VAE_LAYERS_PER_BLOCK,
            norm_num_groups=VAE_NORM_GROUPS, latent_channels=Flux2VAE.latent_channels,
            scaling_factor=Flux2VAE.scaling_factor, shift_factor=Flux2VAE.shift_factor,
        ),
    },
}

# name -> family, stored bits (None = unquantized), how it is made
CASES = {
    "zimage-q4": {"family": "zimage", "bits": 4},
    "klein-bf16": {"family": "klein", "bits": None},
    "klein-q8": {"family": "klein", "bits": 8},
}

COMPONENTS = ("vae", "transformer", "text_encoder")  # the weight definitions' order
# Arrays mflux keeps in the module but that no upstream checkpoint holds: computed at
# construction (float32), saved by mflux-save, harmless to omit (the module recomputes them).
COMPUTED_KEYS = ("rotary_emb.inv_freq",)


# ---------------------------------------------------------------------------------------------
# Module builders (no weights: every parameter is either filled by random_init or by the loader)
# ---------------------------------------------------------------------------------------------
def _shell(cls, **children):
    """An instance of an mflux module class with the given children, without running its
    __init__ (which hard-codes full-size widths). Its __call__ is mflux's."""
    module = cls.__new__(cls)
    nn.Module.__init__(module)
    for name, child in children.items():
        setattr(module, name, child)
    return module


def _tiny_zimage_vae():
    ch = VAE_BLOCK_OUT_CHANNELS
    n = len(ch)
    # diffusers AutoencoderKL Encoder: block i maps ch[i-1] -> ch[i], downsampling all but the last.
    down_blocks = [
        DownEncoderBlock(
            in_channels=ch[max(i - 1, 0)], out_channels=ch[i], num_layers=VAE_LAYERS_PER_BLOCK,
            add_downsample=i < n - 1,
        )
        for i in range(n)
    ]
    encoder = _shell(
        ZEncoder,
        conv_in=zenc_conv_in.ConvIn(in_channels=3, out_channels=ch[0]),
        down_blocks=down_blocks,
        mid_block=UNetMidBlock(channels=ch[-1]),
        conv_norm_out=zenc_norm_out.ConvNormOut(num_channels=ch[-1], num_groups=VAE_NORM_GROUPS),
        conv_out=zenc_conv_out.ConvOut(in_channels=ch[-1], out_channels=2 * ZVAE.latent_channels),
    )
    # Decoder: reversed widths, layers_per_block + 1 resnets per block, upsampling all but the last.
    rev = list(reversed(ch))
    up_blocks = [
        UpDecoderBlock(
            in_channels=rev[max(i - 1, 0)], out_channels=rev[i], num_layers=VAE_LAYERS_PER_BLOCK + 1,
            add_upsample=i < n - 1,
        )
        for i in range(n)
    ]
    decoder = _shell(
        ZDecoder,
        conv_in=zdec_conv_in.ConvIn(in_channels=ZVAE.latent_channels, out_channels=ch[-1]),
        mid_block=UNetMidBlock(channels=ch[-1]),
        up_blocks=up_blocks,
        conv_norm_out=zdec_norm_out.ConvNormOut(channels=ch[0]),
        conv_out=zdec_conv_out.ConvOut(in_channels=ch[0], out_channels=3),
    )
    return _shell(ZVAE, encoder=encoder, decoder=decoder)


def _tiny_klein_vae():
    vae = Flux2VAE(decoder_block_out_channels=VAE_BLOCK_OUT_CHANNELS)
    common = dict(
        block_out_channels=VAE_BLOCK_OUT_CHANNELS, layers_per_block=VAE_LAYERS_PER_BLOCK,
        norm_num_groups=VAE_NORM_GROUPS,
    )
    vae.encoder = Flux2Encoder(out_channels=vae.latent_channels, **common)  # replaces the full-size default
    vae.decoder = Flux2Decoder(in_channels=vae.latent_channels, **common)
    return vae


def build_modules(family: str) -> dict[str, nn.Module]:
    """The three weighted components at tiny size, with their construction-time parameters."""
    f = FAMILIES[family]
    if family == "zimage":
        return {
            "vae": _tiny_zimage_vae(),
            "transformer": ZImageTransformer(**f["transformer"]),
            "text_encoder": TextEncoder(**f["text_encoder"]),
        }
    return {
        "vae": _tiny_klein_vae(),
        "transformer": Flux2Transformer(**f["transformer"]),
        "text_encoder": Qwen3TextEncoder(**f["text_encoder"]),
    }


@contextlib.contextmanager
def tiny_models(family: str):
    """Makes mflux's initializer build the tiny modules. Mirrors the real _init_models: the VAE
    decodes in VAEBlockDecoder.LOW_MEMORY mode (mflux's default for both models)."""
    initializer = FAMILIES[family]["initializer"]
    original = initializer.__dict__["_init_models"]

    def _init_models(model):
        modules = build_modules(family)
        model.vae = modules["vae"]
        model.vae.decode_mode = VAEBlockDecoder.LOW_MEMORY
        model.transformer = modules["transformer"]
        model.text_encoder = modules["text_encoder"]

    initializer._init_models = staticmethod(_init_models)
    try:
        yield
    finally:
        initializer._init_models = original


def load_pipeline(family: str, folder, quantize: int | None = None):
    """mflux's own load of a saved folder: ZImage(...) / Flux2Klein(...) with model_path, as
    mflux-generate does (WeightLoader -> TokenizerLoader -> WeightApplier.apply_and_quantize)."""
    f = FAMILIES[family]
    with tiny_models(family):
        return f["pipeline"](quantize=quantize, model_path=str(folder), model_config=f["model_config"]())


# ---------------------------------------------------------------------------------------------
# Random weights
# ---------------------------------------------------------------------------------------------
def random_init(module: nn.Module, rng: np.random.Generator) -> None:
    """Seeded random values for every checkpoint parameter, cast to bfloat16 as mflux's loader
    casts every checkpoint tensor (ModelConfig.precision). Computed arrays keep their value."""
    weights = []
    for name, value in tree_flatten(module.parameters()):
        if name.endswith(COMPUTED_KEYS):
            continue
        shape = value.shape
        if name.endswith("running_mean"):
            a = 0.5 * rng.standard_normal(shape)
        elif name.endswith("running_var"):
            a = rng.uniform(0.5, 2.0, shape)  # positive
        elif name.endswith("pad_token"):
            a = rng.standard_normal(shape)
        elif name.endswith("bias"):
            a = 0.05 * rng.standard_normal(shape)
        elif len(shape) == 1:  # RMSNorm / GroupNorm / LayerNorm scale: far enough from 1 to show a skipped norm
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        else:  # Linear [out, in], Embedding [vocab, dim], Conv OHWI: ~ 1/sqrt(fan_in)
            a = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
        weights.append((name, mx.array(a.astype(np.float32)).astype(ModelConfig.precision)))
    module.update(tree_unflatten(weights))
    mx.eval(module.parameters())


def build_random_pipeline(family: str, tokenizer):
    """An in-memory pipeline object (ZImage / Flux2Klein) holding random tiny components, ready
    for its own save_model(): the state a fresh load of bf16 weights leaves it in."""
    f = FAMILIES[family]
    modules = build_modules(family)
    for index, name in enumerate(COMPONENTS):
        random_init(modules[name], np.random.default_rng([SEED, list(FAMILIES).index(family), index]))
    pipeline = _shell(f["pipeline"], **modules)
    pipeline.tokenizers = {f["tokenizer_name"]: tokenizer}
    pipeline.bits = None
    return pipeline


# ---------------------------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------------------------
def make_inputs(family: str) -> dict[str, mx.array]:
    """Transformer and VAE inputs, made the way mflux's pipelines make them (the latent creators
    draw normal noise from mx.random.key(seed) and cast it to bfloat16)."""
    if family == "zimage":
        return {
            # ZImageLatentCreator.create_noise: [C=16, F=1, H/8, W/8] bf16, what the loop feeds x
            "transformer.in.x": ZImageLatentCreator.create_noise(SEED + 1, HEIGHT, WIDTH),
            # the pipeline passes timestep = 1 - sigma, float32 [1]
            "transformer.in.timestep": mx.array([1.0 - SIGMA], dtype=mx.float32),
            # the scheduler's sigmas; unused by __call__ when timestep is an mx.array
            "transformer.in.sigmas": mx.array([SIGMA, 0.0], dtype=mx.float32),
            # ZImageLatentCreator.unpack_latents of [16,1,8,8] noise: [1, 16, 8, 8] bf16
            "vae.in.latents": ZImageLatentCreator.unpack_latents(
                ZImageLatentCreator.create_noise(SEED + 2, HEIGHT, WIDTH), HEIGHT, WIDTH
            ),
        }
    latents, latent_ids, lat_h, lat_w = Flux2LatentCreator.prepare_packed_latents(
        seed=SEED + 1, height=HEIGHT, width=WIDTH, batch_size=1
    )
    vae_tokens, _, _, _ = Flux2LatentCreator.prepare_packed_latents(seed=SEED + 2, height=HEIGHT, width=WIDTH, batch_size=1)
    return {
        "transformer.in.hidden_states": latents,  # [1, 16, 128] bf16 packed tokens (row-major 4x4 grid)
        "transformer.in.img_ids": latent_ids,  # [1, 16, 4] int32 (t=0, h, w, l=0)
        # the klein loop passes scheduler.timesteps[t] = sigma * 1000, a float32 0-d array
        "transformer.in.timestep": mx.array(SIGMA * 1000.0, dtype=mx.float32),
        # the pipeline's decode input: tokens -> [1, lat_h, lat_w, 128] -> NCHW [1, 128, 4, 4]
        "vae.in.latents": vae_tokens.reshape(1, lat_h, lat_w, vae_tokens.shape[-1]).transpose(0, 3, 1, 2),
    }


def compute_outputs(family: str, pipeline, inputs: dict[str, mx.array]) -> dict[str, mx.array]:
    """Text encoding of PROMPT, one transformer call and one VAE decode, each through the code
    the mflux pipeline runs. The transformer's text conditioning is taken from inputs when given
    (transformer.in.cap_feats / .encoder_hidden_states / .txt_ids, so that a check isolates the
    transformer), else from the text encoding computed here; the conditioning used is returned
    under the same names, next to the outputs."""
    out = {}
    tokenizer = pipeline.tokenizers[FAMILIES[family]["tokenizer_name"]]
    tokens = tokenizer.tokenize(PROMPT)  # the tokenize call both prompt encoders make
    out["text.input_ids"] = tokens.input_ids.astype(mx.int32)
    out["text.attention_mask"] = tokens.attention_mask.astype(mx.int32)

    if family == "zimage":
        embeds, _ = pipeline._encode_prompts(prompt=PROMPT, negative_prompt=None, guidance=0.0)
        out["text.embeds"] = embeds  # cap_feats [L_valid, 64] bf16
        out["transformer.in.cap_feats"] = inputs.get("transformer.in.cap_feats", embeds)
        call = dict(
            x=inputs["transformer.in.x"],
            timestep=inputs["transformer.in.timestep"],
            sigmas=inputs["transformer.in.sigmas"],
            cap_feats=out["transformer.in.cap_feats"],
        )
        # generate_image calls the mx.compile'd closure of _predict; with no negative prompt it
        # returns the transformer's output unchanged.
        predict = ZImage._predict(pipeline.transformer)
        out["transformer.out"] = predict(
            latents=call["x"], timestep=call["timestep"], sigmas=call["sigmas"],
            text_encodings=call["cap_feats"], negative_encodings=None, guidance=0.0,
        )
        vae_decode = lambda: VAEUtil.decode(vae=pipeline.vae, latent=inputs["vae.in.latents"], tiling_config=None)  # noqa: E731
    else:
        embeds, text_ids, _, _ = pipeline._encode_prompt_pair(prompt=PROMPT, negative_prompt=" ", guidance=1.0)
        out["text.embeds"] = embeds  # [1, 512, 192] bf16
        out["text.txt_ids"] = text_ids.astype(mx.int32)  # [1, 512, 4]
        out["transformer.in.encoder_hidden_states"] = inputs.get("transformer.in.encoder_hidden_states", embeds)
        out["transformer.in.txt_ids"] = inputs.get("transformer.in.txt_ids", out["text.txt_ids"])
        call = dict(
            hidden_states=inputs["transformer.in.hidden_states"],
            encoder_hidden_states=out["transformer.in.encoder_hidden_states"],
            timestep=inputs["transformer.in.timestep"],
            img_ids=inputs["transformer.in.img_ids"],
            txt_ids=out["transformer.in.txt_ids"],
            guidance=None,
        )
        predict = Flux2Klein._predict(pipeline.transformer)  # guidance 1.0: no negative pass
        out["transformer.out"] = predict(
            latents=call["hidden_states"], latent_ids=call["img_ids"], prompt_embeds=call["encoder_hidden_states"],
            text_ids=call["txt_ids"], negative_prompt_embeds=None, negative_text_ids=None, guidance=1.0,
            timestep=call["timestep"],
        )
        out["vae.unpacked"] = pipeline.vae.unpack_packed_latents(inputs["vae.in.latents"])
        vae_decode = lambda: pipeline.vae.decode_packed_latents(inputs["vae.in.latents"], tiling_config=None)  # noqa: E731
    # The same call without mx.compile (compilation fuses element-wise bf16 ops, which can move
    # results by one bf16 ulp): the closer oracle for an implementation that does not fuse.
    out["transformer.out_eager"] = pipeline.transformer(**call)

    # The default decode (VAEBlockDecoder.LOW_MEMORY, set by the initializer) and the one
    # --vae-full-precision selects (VAEDecodeOptions.apply -> FULL_PRECISION).
    mode = pipeline.vae.decode_mode
    out["vae.out"] = vae_decode()
    pipeline.vae.decode_mode = VAEBlockDecoder.FULL_PRECISION
    out["vae.out_full_precision"] = vae_decode()
    pipeline.vae.decode_mode = mode
    mx.eval(out)
    return out

