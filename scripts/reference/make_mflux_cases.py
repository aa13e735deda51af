#!/usr/bin/env python3
"""Tiny mflux-saved folders and the outputs mflux computes from them: the oracle of mflux-swift's
mflux-format reader and writer.

Usage: scripts/reference/setup-mflux && scripts/reference/.venv-mflux/bin/python scripts/reference/make_mflux_cases.py
Writes ReferenceExports/mflux/ (deterministic; delete nothing by hand, rerun instead):
  zimage-q4/   tiny Z-Image(-Turbo), 4-bit   = mflux-save -q 4 of the random bf16 model
  klein-bf16/  tiny FLUX.2-klein, unquantized = mflux-save (no -q) of the random bf16 model
  klein-q8/    the same klein weights, 8-bit = mflux-save -q 8 --model klein-bf16
  <name>.cases.safetensors  inputs and outputs (float32; ids int32), next to each folder
  <name>.manifest.json      dims, call conventions, tensor descriptions, versions, file hashes

How a folder is made, all with mflux 0.24.0's own code (see mflux_tiny.py for the one patch):
  1. mflux's module classes at tiny sizes, seeded random weights cast to bfloat16 (as mflux's
     loader casts a HuggingFace checkpoint), held by a ZImage / Flux2Klein object with the tiny
     test tokenizer loaded by mflux's TokenizerLoader;
  2. that object's save_model() (ModelSaver) writes an unquantized mflux folder to a temporary
     directory;
  3. mflux-save's main() (mflux.models.common.cli.save) loads it (--base-model, -q N) and saves
     the folder here, mflux_model.json included. Its two timestamps are pinned (FIXED_TIMESTAMP)
     so that reruns give identical bytes; nothing else in the folders is touched.
The outputs are then computed by loading each saved folder with mflux's loader (ZImage /
Flux2Klein(model_path=...)), never from the in-memory model.
"""
import hashlib
import json
import platform
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import mflux_tiny as T  # sets HF_HUB_OFFLINE before mflux is imported
import mlx.core as mx
import numpy as np
from safetensors.numpy import save_file

from mflux.models.common.cli import save as save_cli
from mflux.models.common.tokenizer import TokenizerLoader
from mflux.models.common.weights.saving.saved_model_info import SavedModelInfo

FIXED_TIMESTAMP = "2026-01-01T00:00:00Z"  # created_at / updated_at of mflux_model.json


def mflux_save(family: str, model_path: Path, target: Path, bits: int | None) -> None:
    """`mflux-save --model MODEL_PATH --base-model KEY [-q BITS] --path TARGET`, run in-process so
    that the tiny module builder is in effect."""
    argv = ["mflux-save", "--model", str(model_path), "--base-model", T.FAMILIES[family]["registry_key"]]
    argv += ["--path", str(target)] + (["-q", str(bits)] if bits else [])
    saved_argv, saved_timestamp = sys.argv, SavedModelInfo.__dict__["timestamp"]
    sys.argv = argv
    SavedModelInfo.timestamp = staticmethod(lambda moment: FIXED_TIMESTAMP)
    try:
        with T.tiny_models(family):
            save_cli.main()
    finally:
        sys.argv, SavedModelInfo.timestamp = saved_argv, saved_timestamp


def write_folders(tmp: Path) -> None:
    for family in T.FAMILIES:
        f = T.FAMILIES[family]
        tokenizer = TokenizerLoader.load(f["definition"].get_tokenizers()[0], str(f["tokenizer_source"]))
        init = tmp / f"tiny-{family}-random-bf16"  # its name is recorded in mflux_model.json
        T.build_random_pipeline(family, tokenizer).save_model(str(init))
        for case, spec in T.CASES.items():
            if spec["family"] != family:
                continue
            target = T.EXPORTS / case
            shutil.rmtree(target, ignore_errors=True)
            # klein-q8 is quantized from the saved klein-bf16 folder, as a user would do it.
            source = T.EXPORTS / "klein-bf16" if case == "klein-q8" else init
            mflux_save(family, source, target, spec["bits"])


def file_table(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): {"bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def shard_summary(folder: Path) -> dict:
    summary = {}
    for component in T.COMPONENTS:
        index = json.loads((folder / component / "model.safetensors.index.json").read_text())
        summary[component] = {"tensors": len(index["weight_map"]), "metadata": index["metadata"]}
    return summary


# Shapes are filled in from the tensors; these say what each one is.
DESCRIPTIONS = {
    "zimage": {
        "text.input_ids": "[1, 512] int32: ids the Z-Image prompt encoder feeds the text encoder: chat template "
        "(enable_thinking=True; see text_encoding.formatted_prompt), right-padded with <|endoftext|> to max_length 512",
        "text.attention_mask": "[1, 512] int32: 1 for the prompt tokens, 0 for padding",
        "text.embeds": "[L, 64], L = number of unmasked tokens: cap_feats exactly as passed to the transformer "
        "(bf16 in mflux; values are bf16-exact here)",
        "transformer.in.x": "[16, 1, 8, 8] (C, F, H/8, W/8): latents as passed to ZImageTransformer.__call__ "
        "(bf16 in mflux: ZImageLatentCreator.create_noise(seed, 64, 64))",
        "transformer.in.timestep": "[1] float32: 1 - sigma (sigma = 0.75), as ZImage.generate_image passes it",
        "transformer.in.sigmas": "[2] float32: the sigmas argument; unused by __call__ when timestep is an mx.array",
        "transformer.in.cap_feats": "= text.embeds (bf16 in mflux)",
        "transformer.out": "[16, 1, 8, 8]: the return value of __call__ via the pipeline's mx.compile'd predict "
        "closure. It is already sign-flipped (__call__ returns -model_output); the scheduler uses it as is",
        "transformer.out_eager": "same call without mx.compile (may differ from transformer.out by ~1 bf16 ulp)",
        "vae.in.latents": "[1, 16, 8, 8] NCHW: what VAEUtil.decode receives in ZImage._decode_latents "
        "(ZImageLatentCreator.unpack_latents of [16, 1, 8, 8]; bf16 in mflux), before scaling/shift",
        "vae.out": "[1, 3, 64, 64] NCHW: decoded image in mflux's default decode (VAEBlockDecoder LOW_MEMORY), "
        "nominally [-1, 1] (these random weights overshoot it); mflux then maps clip(x / 2 + 0.5, 0, 1) * 255, "
        "rounded, to uint8",
        "vae.out_full_precision": "same decode with --vae-full-precision (VAEBlockDecoder FULL_PRECISION)",
    },
    "klein": {
        "text.input_ids": "[1, 512] int32: ids the klein prompt encoder feeds the Qwen3 encoder: chat template "
        "(enable_thinking=False; see text_encoding.formatted_prompt), right-padded with <|endoftext|> to 512",
        "text.attention_mask": "[1, 512] int32: 1 for the prompt tokens, 0 for padding",
        "text.embeds": "[1, 512, 192]: prompt_embeds = concat(hidden_states[9], [18], [27]) along features, per "
        "token, for ALL 512 positions (padding included); bf16 in mflux",
        "text.txt_ids": "[1, 512, 4] int32: (t=0, h=0, w=0, token index) from Flux2PromptEncoder.prepare_text_ids",
        "transformer.in.hidden_states": "[1, 16, 128]: packed image tokens (row-major over the 4x4 grid, 128 = "
        "32 latent channels x 2x2 patch), bf16 in mflux (Flux2LatentCreator.prepare_packed_latents)",
        "transformer.in.encoder_hidden_states": "= text.embeds (bf16 in mflux)",
        "transformer.in.timestep": "[] float32: sigma * 1000 = 750, as the klein loop passes scheduler.timesteps[t]. "
        "__call__ casts it to the latents' dtype (bf16: 750 -> 752) and multiplies by 1000 only if it is <= 1",
        "transformer.in.img_ids": "[1, 16, 4] int32: (t=0, h, w, l=0) from Flux2LatentCreator.prepare_grid_ids",
        "transformer.in.txt_ids": "= text.txt_ids",
        "transformer.out": "[1, 16, 128]: the return value of __call__ (guidance=None) via the pipeline's "
        "mx.compile'd predict closure; no sign flip: the scheduler does latents + (sigma_next - sigma) * out",
        "transformer.out_eager": "same call without mx.compile (may differ from transformer.out by ~1 bf16 ulp)",
        "vae.in.latents": "[1, 128, 4, 4] NCHW: what Flux2VAE.decode_packed_latents receives (the pipeline reshapes "
        "the [1, 16, 128] tokens to [1, 4, 4, 128] and transposes to NCHW); bf16 in mflux",
        "vae.unpacked": "[1, 32, 8, 8]: unpack_packed_latents(vae.in.latents) = unpatchify(x * sqrt(bn.running_var "
        "+ 1e-4) + bn.running_mean), channel c*4 + 2*dy + dx -> channel c at (2h+dy, 2w+dx); this is what "
        "VAEUtil.decode receives",
        "vae.out": "[1, 3, 64, 64] NCHW: decoded image in mflux's default decode (VAEBlockDecoder LOW_MEMORY), "
        "nominally [-1, 1] (these random weights overshoot it); mflux then maps clip(x / 2 + 0.5, 0, 1) * 255, "
        "rounded, to uint8",
        "vae.out_full_precision": "same decode with --vae-full-precision (VAEBlockDecoder FULL_PRECISION)",
    },
}

CONVENTIONS = {
    "zimage": {
        "text_encoding": {
            "code": "ZImage._encode_prompts -> PromptEncoder.encode_prompt (z_image_text_encoder/prompt_encoder.py)",
            "tokenizer": "LanguageTokenizer(AutoTokenizer): apply_chat_template([{role: user, content: prompt}], "
            "add_generation_prompt=True, enable_thinking=True), then padding='max_length', max_length=512, "
            "truncation, add_special_tokens=True",
            "encoder": "TextEncoder: embeddings cast to float32, all layers run in float32 activations (bf16 "
            "weights), causal mask plus -inf on padded keys; returns hidden_states[-2] = output of the "
            "second-to-last layer (= input of the last layer; the last layer and the final norm are unused), cast "
            "to bf16",
            "selection": "cap_feats = result[0, :sum(attention_mask)]: padded positions are dropped",
        },
        "transformer_call": "ZImageTransformer.__call__(x=transformer.in.x, timestep=transformer.in.timestep, "
        "sigmas=transformer.in.sigmas, cap_feats=transformer.in.cap_feats). t_emb = t_embedder(timestep * "
        "t_scale), t_scale = 1000 (so 250 here). Image: 2x2 patches -> 16 tokens, padded to a multiple of 32 "
        "with x_pad_token; caption padded to a multiple of 32 by repeating its last row, then replaced by "
        "cap_pad_token after cap_embedder. Returns -model_output; the linear scheduler step is latents + "
        "out * (sigma_next - sigma)",
        "vae_decode": "VAEUtil.decode(vae, [1,16,8,8]) -> VAE.decode -> VAEBlockDecoder.decode(strips=True, "
        "resnet_norm_fp32=False): latent cast to bf16, z / 0.3611 + 0.1159, NHWC decoder with full-image "
        "GroupNorm statistics in float32",
    },
    "klein": {
        "text_encoding": {
            "code": "Flux2Klein._encode_prompt_pair -> Flux2PromptEncoder.encode_prompt(max_sequence_length=512, "
            "text_encoder_out_layers=(9, 18, 27)) -> Qwen3TextEncoder.get_prompt_embeds",
            "tokenizer": "LanguageTokenizer(Qwen2TokenizerFast): apply_chat_template([{role: user, content: "
            "prompt}], add_generation_prompt=True, enable_thinking=False), then padding='max_length', "
            "max_length=512, truncation, add_special_tokens=True",
            "encoder": "Qwen3TextEncoder in bf16 activations, causal mask plus -inf on padded keys; "
            "hidden_states list = [embeddings, output of layer 1, ..., output of layer N] (HF convention), so "
            "entries 9, 18, 27 are the outputs of the 9th, 18th and 27th layers (0-based layers 8, 17, 26); "
            "the final norm is not applied",
            "selection": "stack the three entries -> [B, 3, L, H] -> transpose to [B, L, 3, H] -> reshape [B, L, "
            "3H]: per token, features [h9 | h18 | h27]. All 512 positions are kept (no mask is passed to the "
            "transformer); txt_ids = (0, 0, 0, position)",
        },
        "transformer_call": "Flux2Transformer.__call__(hidden_states=transformer.in.hidden_states, "
        "encoder_hidden_states=transformer.in.encoder_hidden_states, timestep=transformer.in.timestep, "
        "img_ids=transformer.in.img_ids, txt_ids=transformer.in.txt_ids, guidance=None). timestep is cast to the "
        "dtype of hidden_states (bf16: 750 becomes 752) and scaled by 1000 only when max(timestep) <= 1. "
        "Rotary ids are [txt_ids; img_ids]; the output keeps the image tokens only. No sign flip: the flow-match "
        "Euler step is latents + (sigma_next - sigma) * out",
        "vae_decode": "Flux2VAE.decode_packed_latents([1,128,4,4]) -> unpack_packed_latents (BatchNorm "
        "de-normalisation with eps 1e-4 in the 128-channel patchified space, then 2x2 unpatchify) -> "
        "VAEUtil.decode -> VAEBlockDecoder.decode(strips=True): latent cast to bf16, z / 1.0 + 0.0, "
        "post_quant_conv, NHWC decoder with full-image GroupNorm statistics in float32",
    },
}


def write_case(case: str) -> None:
    spec = T.CASES[case]
    family = spec["family"]
    folder = T.EXPORTS / case
    pipeline = T.load_pipeline(family, folder)  # mflux's loader, from the saved folder
    assert pipeline.bits == spec["bits"], (pipeline.bits, spec["bits"])
    inputs = T.make_inputs(family)
    outputs = T.compute_outputs(family, pipeline, inputs)
    tensors = {**inputs, **outputs}

    def to_numpy(a: mx.array) -> np.ndarray:
        # C order matters: np.array() of a transposed MLX array keeps its strides, and
        # safetensors.numpy.save_file writes the buffer in memory order, not in index order.
        dtype = np.int32 if a.dtype in (mx.int32, mx.int64, mx.uint32) else np.float32
        # (np.ascontiguousarray would also turn the 0-d klein timestep into shape [1].)
        return np.array(np.array(a.astype(mx.int32 if dtype == np.int32 else mx.float32)), dtype=dtype, order="C")

    arrays = {name: to_numpy(a) for name, a in sorted(tensors.items())}
    save_file(arrays, str(T.EXPORTS / f"{case}.cases.safetensors"))

    f = T.FAMILIES[family]
    tokenizer = pipeline.tokenizers[f["tokenizer_name"]]
    conventions = json.loads(json.dumps(CONVENTIONS[family]))
    conventions["text_encoding"]["formatted_prompt"] = tokenizer.tokenizer.apply_chat_template(
        [{"role": "user", "content": T.PROMPT}], tokenize=False, add_generation_prompt=True, **tokenizer.chat_template_kwargs
    )
    conventions["text_encoding"]["prompt_tokens"] = int(outputs["text.attention_mask"].sum().item())
    conventions["text_encoding"]["pad_token_id"] = tokenizer.tokenizer.pad_token_id
    manifest = {
        "case": case,
        "family": family,
        "folder": case,
        "made_by": "scripts/reference/make_mflux_cases.py (builders in scripts/reference/mflux_tiny.py)",
        "how": (
            f"random tiny bf16 weights saved by {f['pipeline'].__name__}.save_model (ModelSaver), then "
            + ("mflux-save --model klein-bf16" if case == "klein-q8" else f"mflux-save --model tiny-{family}-random-bf16")
            + f" --base-model {f['registry_key']}"
            + (f" -q {spec['bits']}" if spec["bits"] else "")
            + f" --path {case}; outputs from {f['pipeline'].__name__}(model_path={case}) (mflux's loader)"
        ),
        "quantization": {
            "quantization_level": str(spec["bits"]),
            "bits": spec["bits"],
            "group_size": 64 if spec["bits"] else None,
            "mode": "affine" if spec["bits"] else None,
            "predicate": "hasattr(module, 'to_quantized'): every nn.Linear and nn.Embedding of vae, transformer "
            "and text_encoder" if spec["bits"] else None,
        },
        "prompt": T.PROMPT,
        "sigma": T.SIGMA,
        "height": T.HEIGHT,
        "width": T.WIDTH,
        "seed": T.SEED,
        "dims": {
            "transformer": f["transformer"],
            "transformer_class": f"{type(pipeline.transformer).__module__}.{type(pipeline.transformer).__name__}",
            "text_encoder": f["text_encoder"],
            "text_encoder_class": f"{type(pipeline.text_encoder).__module__}.{type(pipeline.text_encoder).__name__}",
            "vae": f["vae"],
            "vae_class": f"{type(pipeline.vae).__module__}.{type(pipeline.vae).__name__}",
            "tokenizer": str(f["tokenizer_source"].relative_to(T.ROOT) / "tokenizer"),
        },
        "init": "numpy default_rng([seed, family, component]): Linear/Embedding/Conv weights normal / sqrt(fan_in) "
        "(fan_in = product of all but the first axis; conv weights are OHWI), 1-D norm weights 1 + 0.1 normal, "
        "biases 0.05 normal, pad tokens normal, BatchNorm running_mean 0.5 normal, running_var uniform(0.5, 2); "
        "all cast to bf16; rotary_emb.inv_freq keeps its computed float32 value",
        "conventions": conventions,
        "tensors": {
            name: {
                "shape": list(arrays[name].shape),
                "file_dtype": str(arrays[name].dtype),
                "mflux_dtype": str(tensors[name].dtype).replace("mlx.core.", ""),
                "description": DESCRIPTIONS[family].get(name, ""),
            }
            for name in sorted(arrays)
        },
        "components": shard_summary(folder),
        "files": file_table(folder),
        "versions": {
            "mflux": version("mflux"),
            "mlx": mx.__version__,
            "transformers": version("transformers"),
            "tokenizers": version("tokenizers"),
            "numpy": np.__version__,
            "python": platform.python_version(),
            "device": str(mx.default_device()),
        },
    }
    (T.EXPORTS / f"{case}.manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"{case}: {len(arrays)} tensors, transformer.out max {float(np.abs(arrays['transformer.out']).max()):.4g}")


def main() -> None:
    T.EXPORTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        write_folders(Path(tmp))
    for case in T.CASES:
        write_case(case)


if __name__ == "__main__":
    main()
