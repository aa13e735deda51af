#!/usr/bin/env python3
"""LoRA reference fixtures for ZImagePipeline and Flux2KleinPipeline (diffusers 0.42.1 + peft).

Writes, deterministically, from the `base` checkpoints already in ReferenceExports/:

* `lora/<model>/<format>.safetensors`: tiny random LoRAs (rank 4, B non-zero) in each key format
  diffusers 0.42.1 loads for that pipeline, plus variants and files it refuses (`FILES` below);
* `lora/<model>/converted.safetensors`: for every file diffusers accepts, what
  `<Pipeline>.lora_state_dict(file)` returns (the converted diffusers/PEFT state dict, keys
  `<file stem>/transformer.<module>.lora_{A,B}.weight`, as float32);
* `lora/<model>/manifest.json`: per file its format, key patterns, converter, ranks, alphas,
  metadata, targeted diffusers modules, the LoraConfig diffusers built and peft's per-module
  scaling; and what each pipeline does with every file of both families (loaded / warning /
  exception, with diffusers' text);
* `<model>/cases/lora_<format>/` (one LoRA at scale 1.0) and `<model>/cases/lora_two_adapters/`
  (two LoRAs of different formats, `set_adapters([a, b], adapter_weights=[0.8, 1.3])`):
  text-to-image cases exported like the others (same prompt, seed and size as
  `<model>/cases/nonsquare_4steps`), plus `lora.merged.<module>.weight`: the weights the
  transformer effectively computes with (`fuse_lora` after the run) for a few target layers;
* `index.json`'s `lora_cases` list and `loras` folder (its `cases` list is left alone: those are
  the plain text-to-image cases).

Usage: scripts/reference/make-lora-cases (on an AVX-512 machine with ATEN_CPU_CAPABILITY=avx2
MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2, as regenerate). A full `regenerate` deletes
ReferenceExports/ and does not call this: run it again afterwards. Needs peft (pinned in
scripts/reference/setup). Only the paths above are written.
REFERENCE_EXPORTS_DIR=<folder> writes into another exports folder (it must hold both models'
checkpoints/base, cases/nonsquare_4steps and index.json).
"""
import contextlib
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

import export_cases as ex  # noqa: E402
from refcommon import EXPORTS, assert_no_machine_paths, save_png, save_tensors, setup_torch, versions, write_json  # noqa: E402

EXPORTS = os.environ.get("REFERENCE_EXPORTS_DIR", EXPORTS)  # as regenerate: write elsewhere to compare two runs

RANK = 4
K_DELTA = 0.35  # target std of scale * B @ A relative to the base weight's (~1/sqrt(fan_in))
TWO_ADAPTER_WEIGHTS = (0.8, 1.3)
PIPELINES = {"zimage": "ZImagePipeline", "klein": "Flux2KleinPipeline"}
RUNNERS = {"zimage": "run_zimage", "klein": "run_klein"}
BASE_CASE = "nonsquare_4steps"  # the LoRA cases use its prompt, seed, size and steps

# ---------------------------------------------------------------------------------------------
# What each file holds. A "unit" is one LoRA pair in the file's own naming; `targets` are the
# diffusers modules it lands on (several for a fused QKV), `alpha` the file's alpha (None: no
# alpha key), `scale` the alpha / rank that diffusers applies (folded into A/B by the converters
# or applied by peft from the metadata), used to size B so that every pair changes the weights
# by ~K_DELTA of their scale.
# ---------------------------------------------------------------------------------------------

Z_DIFFUSERS_TARGETS = [
    "layers.0.attention.to_q", "layers.0.attention.to_k", "layers.0.attention.to_v", "layers.0.attention.to_out.0",
    "layers.0.feed_forward.w1", "layers.0.feed_forward.w3", "layers.1.attention.to_v", "layers.1.feed_forward.w2",
    "layers.1.adaLN_modulation.0", "noise_refiner.0.attention.to_q", "context_refiner.1.feed_forward.w2",
]
Z_DIFFUSERS_META = dict(r=RANK, lora_alpha=8, alpha_pattern={"feed_forward.w1": 2})  # scale 2; w1: 0.5

Z_AI_TOOLKIT = [  # (module, alpha)
    ("layers.1.attention.to_q", 3.0), ("layers.1.attention.to_k", 3.0), ("layers.1.attention.to_v", 3.0),
    ("layers.1.attention.to_out.0", 3.0), ("layers.1.feed_forward.w1", 6.0), ("layers.1.feed_forward.w2", 6.0),
    ("layers.1.feed_forward.w3", 6.0), ("noise_refiner.1.adaLN_modulation.0", 1.0),
    ("context_refiner.0.attention.to_k", 3.0), ("all_x_embedder.2-1", 1.0),
]
Z_KOHYA = [  # (module, alpha)
    ("layers.0.attention.to_q", 1.0), ("layers.0.attention.to_k", 1.0), ("layers.0.attention.to_out.0", 1.0),
    ("layers.0.feed_forward.w2", 3.0), ("layers.1.adaLN_modulation.0", 1.0), ("noise_refiner.0.feed_forward.w1", 3.0),
    ("context_refiner.1.attention.to_v", 1.0), ("t_embedder.mlp.0", 1.0), ("cap_embedder.1", 1.0),
    ("all_final_layer.2-1.linear", 3.0),
]
# Z-Image's original module tree (the Tongyi checkpoint / ComfyUI): fused attention.qkv, attention.out.
Z_KOHYA_FUSED = [  # (original block path, original module, alpha)
    ("layers.0", "attention.qkv", 8.0), ("layers.1", "attention.out", 2.0), ("layers.1", "feed_forward.w3", 2.0),
    ("noise_refiner.1", "attention.qkv", 8.0), ("context_refiner.0", "attention.out", 8.0),
]

K_DIFFUSERS_TARGETS = [
    "transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_k", "transformer_blocks.0.attn.to_v",
    "transformer_blocks.0.attn.to_out.0", "transformer_blocks.0.attn.add_k_proj", "transformer_blocks.0.attn.to_add_out",
    "transformer_blocks.0.ff.linear_in", "transformer_blocks.0.ff_context.linear_out",
    "single_transformer_blocks.0.attn.to_qkv_mlp_proj", "single_transformer_blocks.1.attn.to_out",
    "double_stream_modulation_img.linear", "single_stream_modulation.linear", "x_embedder",
]
K_DIFFUSERS_META = dict(r=RANK, lora_alpha=2)  # scale 0.5
K_PEFT_TARGETS = [
    "transformer_blocks.0.attn.add_q_proj", "transformer_blocks.0.attn.add_v_proj", "transformer_blocks.0.attn.to_out.0",
    "transformer_blocks.0.ff_context.linear_in", "transformer_blocks.0.ff.linear_out",
    "single_transformer_blocks.1.attn.to_qkv_mlp_proj", "single_transformer_blocks.0.attn.to_out",
]
# BFL / ComfyUI / ai-toolkit names (diffusion_model. prefix, no alpha keys: diffusers refuses them).
K_BFL = [  # (BFL module, diffusers targets)
    ("double_blocks.0.img_attn.qkv", ["transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_k",
                                      "transformer_blocks.0.attn.to_v"]),
    ("double_blocks.0.txt_attn.qkv", ["transformer_blocks.0.attn.add_q_proj", "transformer_blocks.0.attn.add_k_proj",
                                      "transformer_blocks.0.attn.add_v_proj"]),
    ("double_blocks.0.img_attn.proj", ["transformer_blocks.0.attn.to_out.0"]),
    ("double_blocks.0.txt_attn.proj", ["transformer_blocks.0.attn.to_add_out"]),
    ("double_blocks.0.img_mlp.0", ["transformer_blocks.0.ff.linear_in"]),
    ("double_blocks.0.txt_mlp.2", ["transformer_blocks.0.ff_context.linear_out"]),
    ("single_blocks.0.linear1", ["single_transformer_blocks.0.attn.to_qkv_mlp_proj"]),
    ("single_blocks.1.linear2", ["single_transformer_blocks.1.attn.to_out"]),
    ("double_stream_modulation_img.lin", ["double_stream_modulation_img.linear"]),
    ("double_stream_modulation_txt.lin", ["double_stream_modulation_txt.linear"]),
    ("single_stream_modulation.lin", ["single_stream_modulation.linear"]),
    ("img_in", ["x_embedder"]),
    ("time_in.in_layer", ["time_guidance_embed.timestep_embedder.linear_1"]),
]
# kohya / sd-scripts (bfloat16, as such files usually are; power-of-two alpha / rank so that the
# converter's multiplication in bfloat16 is exact). txt_attn.qkv is rank 6, block-diagonal in B
# (sd-scripts' split-QKV layout): diffusers splits it into three rank-2 LoRAs.
K_KOHYA = [  # (kohya name, diffusers targets, rank, alpha, sparse)
    ("double_blocks_0_img_attn_qkv", ["transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_k",
                                      "transformer_blocks.0.attn.to_v"], 4, 2.0, False),
    ("double_blocks_0_txt_attn_qkv", ["transformer_blocks.0.attn.add_q_proj", "transformer_blocks.0.attn.add_k_proj",
                                      "transformer_blocks.0.attn.add_v_proj"], 6, 3.0, True),
    ("double_blocks_0_img_attn_proj", ["transformer_blocks.0.attn.to_out.0"], 4, 1.0, False),
    ("double_blocks_0_txt_mlp_0", ["transformer_blocks.0.ff_context.linear_in"], 4, 2.0, False),
    ("double_blocks_0_img_mlp_2", ["transformer_blocks.0.ff.linear_out"], 4, 2.0, False),
    ("single_blocks_0_linear1", ["single_transformer_blocks.0.attn.to_qkv_mlp_proj"], 4, 2.0, False),
    ("single_blocks_1_linear2", ["single_transformer_blocks.1.attn.to_out"], 4, 1.0, False),
    ("txt_in", ["context_embedder"], 4, 2.0, False),
    ("final_layer_linear", ["proj_out"], 4, 1.0, False),
]

# The cases: (case name, [(adapter name or None, file stem, set_adapters weight)], merged modules).
CASES = {
    "zimage": [
        ("lora_diffusers", [(None, "diffusers", 1.0)],
         ["layers.0.attention.to_q", "layers.0.feed_forward.w1", "layers.1.adaLN_modulation.0"]),
        ("lora_ai_toolkit", [(None, "ai_toolkit", 1.0)],
         ["layers.1.attention.to_v", "layers.1.feed_forward.w2", "noise_refiner.1.adaLN_modulation.0"]),
        ("lora_kohya", [(None, "kohya", 1.0)],
         ["layers.0.attention.to_out.0", "cap_embedder.1", "all_final_layer.2-1.linear"]),
        ("lora_kohya_fused", [(None, "kohya_fused", 1.0)],
         ["layers.0.attention.to_k", "layers.1.attention.to_out.0", "noise_refiner.1.attention.to_v"]),
        ("lora_two_adapters", [("style", "diffusers", TWO_ADAPTER_WEIGHTS[0]), ("detail", "kohya", TWO_ADAPTER_WEIGHTS[1])],
         ["layers.0.attention.to_q", "layers.0.feed_forward.w1", "layers.1.adaLN_modulation.0"]),
    ],
    "klein": [
        ("lora_diffusers", [(None, "diffusers", 1.0)],
         ["transformer_blocks.0.attn.to_q", "single_transformer_blocks.0.attn.to_qkv_mlp_proj",
          "double_stream_modulation_img.linear"]),
        ("lora_peft", [(None, "peft", 1.0)],
         ["transformer_blocks.0.attn.add_q_proj", "transformer_blocks.0.ff_context.linear_in",
          "single_transformer_blocks.1.attn.to_qkv_mlp_proj"]),
        ("lora_bfl", [(None, "bfl", 1.0)],
         ["transformer_blocks.0.attn.to_v", "transformer_blocks.0.attn.add_k_proj",
          "single_transformer_blocks.1.attn.to_out", "single_stream_modulation.linear"]),
        ("lora_kohya", [(None, "kohya", 1.0)],
         ["transformer_blocks.0.attn.to_k", "transformer_blocks.0.attn.add_v_proj",
          "single_transformer_blocks.0.attn.to_qkv_mlp_proj"]),
        ("lora_two_adapters", [("style", "diffusers", TWO_ADAPTER_WEIGHTS[0]), ("detail", "bfl", TWO_ADAPTER_WEIGHTS[1])],
         ["transformer_blocks.0.attn.to_k", "single_transformer_blocks.0.attn.to_qkv_mlp_proj",
          "double_stream_modulation_img.linear"]),
    ],
}

SEMANTICS = {
    "forward": "peft LoRA Linear (unfused, as the pipeline runs after load_lora_weights): y = base(x) + sum over the "
               "active adapters, in set_adapters order, of lora_B(lora_A(x)) * scaling[adapter] (float32; lora_A/B "
               "are cast to the base layer's dtype at load, whatever the file's dtype)",
    "scaling": "scaling[adapter] = weight * lora_alpha / r (weight: set_adapters adapter_weights, 1.0 after "
               "load_lora_weights; lora_alpha, r: the LoraConfig diffusers built: from the file's "
               "lora_adapter_metadata when it has one (alpha_pattern / rank_pattern keys match a module name m when "
               "re.match(rf'(.*\\.)?({key})$', m)), else lora_alpha = r (scale 1) and per-module ranks in rank_pattern "
               "mirrored into alpha_pattern); files with .alpha keys have alpha / rank folded into A and B by the "
               "converter, so peft scales them by 1",
    "alpha_folding": "kohya and Z-Image converters: s = alpha / rank (rank = lora_down rows); s_down = s, s_up = 1; "
                     "while s_down * 2 < s_up: s_down *= 2, s_up /= 2 (never runs for s >= 0.5); A = down * s_down, "
                     "B = up * s_up, multiplied in the file's dtype; no .alpha key: s = 1",
    "merged": "lora.merged.<module>.weight = W + sum_adapters scaling * (B @ A) (peft merge, what fuse_lora writes, "
              "taken after the run); bias untouched",
}


def _gen(seed):
    return torch.Generator("cpu").manual_seed(seed)


def _base_weights(model):
    folder = os.path.join(EXPORTS, model, "checkpoints", "base", "transformer")
    sd = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            sd.update(load_file(os.path.join(folder, name)))
    return sd


def _pair(g, out_f, in_f, rank, scale):
    """A [rank, in], B [out, rank] with scale * B @ A ~ K_DELTA / sqrt(in) per element."""
    a = torch.randn(rank, in_f, generator=g) / math.sqrt(in_f)
    b = torch.randn(out_f, rank, generator=g) * (K_DELTA / (scale * math.sqrt(rank)))
    return a, b


def _shape(base, module):
    return tuple(base[module + ".weight"].shape)  # (out, in)


def _save(path, sd, dtype=torch.float32, metadata=None):
    sd = {k: v.to(dtype).contiguous().clone() for k, v in sorted(sd.items())}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(sd, path, metadata=metadata)


def _kohya_name(module):
    return "lora_unet_" + module.replace(".", "_")


def _canonical_header(path):
    """Rewrites a safetensors header with its __metadata__ keys sorted (safetensors writes them in
    hash-map order, which changes from run to run); tensors and data untouched."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", None)
    out = {"__metadata__": dict(sorted(meta.items()))} if meta else {}
    out.update(header)
    text = json.dumps(out, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + raw[8 + n:])


def _metadata_file(pipeline_cls, path, sd, meta, targets):
    """A diffusers-format file as diffusers writes it: save_lora_weights with the adapter's
    LoraConfig.to_dict() as `lora_adapter_metadata` (keys prefixed `transformer.`)."""
    from peft import LoraConfig

    cfg = LoraConfig(target_modules=sorted(targets), **meta).to_dict()
    cfg = {k: (sorted(v) if isinstance(v, (set, list)) else v) for k, v in cfg.items()}
    with tempfile.TemporaryDirectory() as tmp:
        pipeline_cls.save_lora_weights(tmp, transformer_lora_layers={k: v.contiguous() for k, v in sorted(sd.items())},
                                       transformer_lora_adapter_metadata=cfg, weight_name="lora.safetensors")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(os.path.join(tmp, "lora.safetensors"), path)
    _canonical_header(path)


# ---------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------

def make_zimage_files(out):
    from diffusers import ZImagePipeline

    base = _base_weights("zimage")
    files = {}

    # (a) diffusers / PEFT keys + lora_adapter_metadata (how diffusers' save_lora_weights writes them).
    g = _gen(101)
    sd = {}
    for m in Z_DIFFUSERS_TARGETS:
        o, i = _shape(base, m)
        s = (2 if m.endswith("feed_forward.w1") else 8) / RANK
        sd[f"{m}.lora_A.weight"], sd[f"{m}.lora_B.weight"] = _pair(g, o, i, RANK, s)
    _metadata_file(ZImagePipeline, os.path.join(out, "diffusers.safetensors"), sd, Z_DIFFUSERS_META, Z_DIFFUSERS_TARGETS)
    files["diffusers"] = dict(
        format="diffusers", dtype="float32",
        keys="transformer.<diffusers module>.lora_A.weight [r, in], transformer.<diffusers module>.lora_B.weight [out, r]; "
             "safetensors metadata 'lora_adapter_metadata' = JSON of peft LoraConfig.to_dict() with keys prefixed 'transformer.'",
        converter="none (ZImageLoraLoaderMixin.lora_state_dict passes transformer.* keys through; load_lora_adapter "
                  "strips 'transformer.' and builds LoraConfig(**metadata))",
        alpha="in the metadata: lora_alpha 8 (scale 2), alpha_pattern {'feed_forward.w1': 2} (scale 0.5 on w1)",
        rank=RANK)

    # (b) ai-toolkit: diffusion_model.<diffusers module>.lora_A/B + per-module .alpha.
    g = _gen(102)
    sd = {}
    for m, alpha in Z_AI_TOOLKIT:
        o, i = _shape(base, m)
        a, b = _pair(g, o, i, RANK, alpha / RANK)
        sd[f"diffusion_model.{m}.lora_A.weight"], sd[f"diffusion_model.{m}.lora_B.weight"] = a, b
        sd[f"diffusion_model.{m}.alpha"] = torch.tensor(alpha)
    _save(os.path.join(out, "ai_toolkit.safetensors"), sd)
    files["ai_toolkit"] = dict(
        format="ai_toolkit", dtype="float32",
        keys="diffusion_model.<diffusers module>.lora_A.weight / .lora_B.weight, diffusion_model.<diffusers module>.alpha (0-dim)",
        converter="_convert_non_diffusers_z_image_lora_to_diffusers (triggered by .alpha or diffusion_model. keys): "
                  "strips diffusion_model., folds alpha / rank into A and B",
        alpha="per module: 3 (attention, scale 0.75), 6 (feed_forward, 1.5), 1 (adaLN_modulation, all_x_embedder, 0.25)",
        rank=RANK)

    # (c) kohya: lora_unet_<module with _>.lora_down/lora_up/alpha over the diffusers module tree.
    g = _gen(103)
    sd = {}
    for m, alpha in Z_KOHYA:
        o, i = _shape(base, m)
        a, b = _pair(g, o, i, RANK, alpha / RANK)
        k = _kohya_name(m)
        sd[f"{k}.lora_down.weight"], sd[f"{k}.lora_up.weight"], sd[f"{k}.alpha"] = a, b, torch.tensor(alpha)
    _save(os.path.join(out, "kohya.safetensors"), sd)
    files["kohya"] = dict(
        format="kohya", dtype="float32",
        keys="lora_unet_<diffusers module, '.' -> '_'>.lora_down.weight [r, in] / .lora_up.weight [out, r] / .alpha (0-dim), "
             "e.g. lora_unet_layers_0_attention_to_out_0, lora_unet_all_final_layer_2-1_linear, lora_unet_t_embedder_mlp_0",
        converter="_convert_non_diffusers_z_image_lora_to_diffusers: strips lora_unet_, splits on '_' keeping to_q/to_k/"
                  "to_v/to_out/feed_forward together (the '.lora_down' suffix becomes '.lora.down': its dot-format "
                  "branch), re-joins context_refiner/noise_refiner/adaLN_modulation/all_final_layer/all_x_embedder/"
                  "cap_embedder/t_embedder, folds alpha / rank",
        alpha="per module: 1 (scale 0.25: A and B each x 0.5) or 3 (scale 0.75: A x 0.75)", rank=RANK)

    # (d) kohya-style keys over Z-Image's ORIGINAL module tree: fused attention.qkv, attention.out (float16).
    g = _gen(104)
    sd = {}
    for block, mod, alpha in Z_KOHYA_FUSED:
        if mod == "attention.qkv":
            o, i = _shape(base, f"{block}.attention.to_q")
            o *= 3
        elif mod == "attention.out":
            o, i = _shape(base, f"{block}.attention.to_out.0")
        else:
            o, i = _shape(base, f"{block}.{mod}")
        a, b = _pair(g, o, i, RANK, alpha / RANK / 2)  # twice the usual change: fewer modules than the others
        k = _kohya_name(f"{block}.{mod}")
        sd[f"{k}.lora_down.weight"], sd[f"{k}.lora_up.weight"], sd[f"{k}.alpha"] = a, b, torch.tensor(alpha)
    _save(os.path.join(out, "kohya_fused.safetensors"), sd, dtype=torch.float16)
    files["kohya_fused"] = dict(
        format="kohya_fused", dtype="float16",
        keys="lora_unet_<original Z-Image module, '.' -> '_'>.lora_down/.lora_up/.alpha with the original tree's "
             "fused lora_unet_<block>_attention_qkv (lora_up [3*dim, r]) and lora_unet_<block>_attention_out",
        converter="_convert_non_diffusers_z_image_lora_to_diffusers, dot-format branch: '<block>.qkv' -> to_q/to_k/to_v "
                  "(A shared, B = up.chunk(3, dim=0) in q, k, v order; skipped if split to_q/k/v keys of the block "
                  "exist too), bare '<block>.out' -> to_out.0",
        alpha="8 (scale 2) on the qkv and context_refiner out, 2 (scale 0.5) on layers.1 out / w3", rank=RANK)

    # Variants diffusers also accepts (no case of their own).
    g = _gen(105)
    sd = {}
    for m in ("layers.0.attention.to_v", "layers.1.feed_forward.w1"):
        o, i = _shape(base, m)
        sd[f"diffusion_model.{m}.lora_A.default.weight"], sd[f"diffusion_model.{m}.lora_B.default.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "peft_default_infix.safetensors"), sd)
    files["peft_default_infix"] = dict(
        format="peft_default_infix", dtype="float32",
        keys="diffusion_model.<diffusers module>.lora_A.default.weight (a peft model's own state_dict naming, adapter 'default')",
        converter="_convert_non_diffusers_z_image_lora_to_diffusers: removes every 'default.'", alpha=None, rank=RANK)
    g = _gen(106)
    sd = {}
    for m in ("layers.0.attention.to_v", "layers.1.feed_forward.w1"):
        o, i = _shape(base, m)
        sd[f"transformer.{m}.lora_A.weight"], sd[f"transformer.{m}.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "diffusers_no_metadata.safetensors"), sd)
    files["diffusers_no_metadata"] = dict(
        format="diffusers_no_metadata", dtype="float32", keys="transformer.<diffusers module>.lora_A/B.weight, no metadata",
        converter="none; LoraConfig from get_peft_kwargs: lora_alpha = r (scale 1)", alpha=None, rank=RANK)

    # Files diffusers refuses or ignores for ZImagePipeline.
    g = _gen(107)
    sd = {}
    o, i = _shape(base, "layers.0.attention.to_q")
    sd["diffusion_model.layers.0.attention.qkv.lora_A.weight"], sd["diffusion_model.layers.0.attention.qkv.lora_B.weight"] = _pair(g, 3 * o, i, RANK, 1.0)
    sd["diffusion_model.layers.0.attention.out.lora_A.weight"], sd["diffusion_model.layers.0.attention.out.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "comfy_original_names.safetensors"), sd)
    files["comfy_original_names"] = dict(
        format="comfy_original_names", dtype="float32",
        keys="diffusion_model.<original Z-Image module>.lora_A/B.weight (fused attention.qkv, attention.out)",
        converter="_convert_non_diffusers_z_image_lora_to_diffusers keeps qkv / out as they are (it splits them only in "
                  "the kohya dot-format branch) -> no such diffusers module", alpha=None, rank=RANK)
    g = _gen(108)
    sd = {}
    o, i = _shape(base, "layers.0.attention.to_q")
    sd["base_model.model.layers.0.attention.to_q.lora_A.weight"], sd["base_model.model.layers.0.attention.to_q.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "peft_base_model.safetensors"), sd)
    files["peft_base_model"] = dict(
        format="peft_base_model", dtype="float32", keys="base_model.model.<diffusers module>.lora_A/B.weight (peft save_pretrained)",
        converter="none: ZImageLoraLoaderMixin does not map base_model.model. (Flux2LoraLoaderMixin does)", alpha=None, rank=RANK)
    g = _gen(109)
    sd = {}
    o, i = _shape(base, "layers.1.attention.to_k")
    sd["transformer.layers.1.attention.to_k.lora_A.weight"], sd["transformer.layers.1.attention.to_k.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    sd["transformer.layers.1.attention.qkv.lora_A.weight"], sd["transformer.layers.1.attention.qkv.lora_B.weight"] = _pair(g, 3 * o, i, RANK, 1.0)
    _save(os.path.join(out, "unmatched_key.safetensors"), sd)
    files["unmatched_key"] = dict(
        format="unmatched_key", dtype="float32",
        keys="diffusers keys: one real module (layers.1.attention.to_k) and one that matches nothing (layers.1.attention.qkv)",
        converter="none", alpha=None, rank=RANK)
    return files


def make_klein_files(out):
    from diffusers import Flux2KleinPipeline

    base = _base_weights("klein")
    files = {}

    # (a) diffusers keys + lora_adapter_metadata.
    g = _gen(201)
    sd = {}
    for m in K_DIFFUSERS_TARGETS:
        o, i = _shape(base, m)
        sd[f"{m}.lora_A.weight"], sd[f"{m}.lora_B.weight"] = _pair(g, o, i, RANK, 2 / RANK)
    _metadata_file(Flux2KleinPipeline, os.path.join(out, "diffusers.safetensors"), sd, K_DIFFUSERS_META, K_DIFFUSERS_TARGETS)
    files["diffusers"] = dict(
        format="diffusers", dtype="float32",
        keys="transformer.<diffusers module>.lora_A.weight / lora_B.weight; safetensors metadata 'lora_adapter_metadata' "
             "(peft LoraConfig.to_dict(), keys prefixed 'transformer.')",
        converter="none (Flux2LoraLoaderMixin.lora_state_dict passes transformer.* keys through)",
        alpha="in the metadata: lora_alpha 2 (scale 0.5)", rank=RANK)

    # (b) peft save_pretrained naming: base_model.model.<diffusers module> (blocks only).
    g = _gen(202)
    sd = {}
    for m in K_PEFT_TARGETS:
        o, i = _shape(base, m)
        sd[f"base_model.model.{m}.lora_A.weight"], sd[f"base_model.model.{m}.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "peft.safetensors"), sd)
    files["peft"] = dict(
        format="peft", dtype="float32",
        keys="base_model.model.<diffusers module>.lora_A/B.weight, modules under transformer_blocks. / "
             "single_transformer_blocks. only",
        converter="Flux2LoraLoaderMixin.lora_state_dict renames base_model.model. -> diffusion_model., then "
                  "_convert_non_diffusers_flux2_lora_to_diffusers passes keys starting with transformer_blocks. / "
                  "single_transformer_blocks. (or the alias sformer_blocks.) through unchanged",
        alpha="none (scale 1)", rank=RANK)

    # (c) BFL names (ComfyUI / ai-toolkit): diffusion_model.double_blocks..., fused qkv.
    g = _gen(203)
    sd = {}
    for bfl, targets in K_BFL:
        o, i = _shape(base, targets[0])
        a, b = _pair(g, o * len(targets), i, RANK, 1.0)
        sd[f"diffusion_model.{bfl}.lora_A.weight"], sd[f"diffusion_model.{bfl}.lora_B.weight"] = a, b
    _save(os.path.join(out, "bfl.safetensors"), sd)
    files["bfl"] = dict(
        format="bfl", dtype="float32",
        keys="diffusion_model.<BFL module>.lora_A.weight / .lora_B.weight: double_blocks.N.{img,txt}_attn.qkv "
             "(B [3*inner, r]), double_blocks.N.{img,txt}_attn.proj, double_blocks.N.{img,txt}_mlp.{0,2}, "
             "single_blocks.N.linear1 / linear2, double_stream_modulation_{img,txt}.lin, single_stream_modulation.lin, "
             "img_in, txt_in, time_in.{in,out}_layer, guidance_in.*, final_layer.linear, final_layer.adaLN_modulation.1",
        converter="_convert_non_diffusers_flux2_lora_to_diffusers: img_attn.qkv -> attn.to_q/to_k/to_v, txt_attn.qkv -> "
                  "attn.add_q_proj/add_k_proj/add_v_proj (A copied to all three, B = torch.chunk(B, 3, dim=0) in q, k, "
                  "v order); proj -> to_out.0 / to_add_out; mlp.0/2 -> ff(.context).linear_in/out; linear1 -> "
                  "single attn.to_qkv_mlp_proj (fused, not split); linear2 -> attn.to_out; *.lin -> *.linear; any key "
                  "left over (an .alpha included) raises ValueError",
        alpha="none (the converter refuses .alpha keys; scale 1)", rank=RANK)

    # (d) kohya (bfloat16).
    g = _gen(204)
    sd = {}
    for name, targets, rank, alpha, sparse in K_KOHYA:
        o, i = _shape(base, targets[0])
        a, b = _pair(g, o * len(targets), i, rank, alpha / rank)
        if sparse:  # block-diagonal: q rows use rank columns 0-1, k 2-3, v 4-5
            per = rank // len(targets)
            mask = torch.zeros_like(b)
            for j in range(len(targets)):
                mask[j * o:(j + 1) * o, j * per:(j + 1) * per] = 1
            b = b * mask * math.sqrt(len(targets))
        k = "lora_unet_" + name
        sd[f"{k}.lora_down.weight"], sd[f"{k}.lora_up.weight"], sd[f"{k}.alpha"] = a, b, torch.tensor(alpha)
    _save(os.path.join(out, "kohya.safetensors"), sd, dtype=torch.bfloat16)
    files["kohya"] = dict(
        format="kohya", dtype="bfloat16",
        keys="lora_unet_<BFL module, '.' -> '_'>.lora_down.weight / .lora_up.weight / .alpha: double_blocks_N_{img,txt}_attn_"
             "{qkv,proj}, double_blocks_N_{img,txt}_mlp_{0,2}, single_blocks_N_linear{1,2}, img_in, txt_in, "
             "time_in_{in,out}_layer, final_layer_linear",
        converter="_convert_kohya_flux2_lora_to_diffusers (triggered by any '.lora_down.weight' key): folds alpha / rank; "
                  "qkv: if rank % 3 == 0 and B is block-diagonal (rows of q only in columns 0..r/3 etc.) A is chunked "
                  "into three rank-r/3 LoRAs with the diagonal blocks of B, otherwise A is copied to q, k, v and B split "
                  "into equal thirds; keys it does not know (modulation, final_layer_adaLN_modulation, guidance_in) "
                  "are dropped with a warning",
        alpha="per module, power-of-two scales: 2 (0.5), 1 (0.25: A and B each x 0.5), 3 on the rank-6 txt qkv (0.5)",
        rank="4; double_blocks_0_txt_attn_qkv rank 6 (block-diagonal -> three rank-2 LoRAs)")

    # Variants and refusals.
    g = _gen(205)
    sd = {}
    o, i = _shape(base, "norm_out.linear")
    sd["diffusion_model.final_layer.adaLN_modulation.1.lora_A.weight"], sd["diffusion_model.final_layer.adaLN_modulation.1.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    o, i = _shape(base, "proj_out")
    sd["diffusion_model.final_layer.linear.lora_A.weight"], sd["diffusion_model.final_layer.linear.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "bfl_final_layer.safetensors"), sd)
    files["bfl_final_layer"] = dict(
        format="bfl_final_layer", dtype="float32",
        keys="diffusion_model.final_layer.adaLN_modulation.1 / final_layer.linear",
        converter="_convert_non_diffusers_flux2_lora_to_diffusers maps final_layer.adaLN_modulation.1 -> norm_out.linear "
                  "WITHOUT swapping B's (shift, scale) halves, although the checkpoint converter swaps them for the base "
                  "weight (swap_scale_shift): the LoRA's shift rows land on diffusers' scale and vice versa",
        alpha=None, rank=RANK)
    g = _gen(206)
    sd = {}
    o, i = _shape(base, "transformer_blocks.0.attn.to_q")
    sd["diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight"], sd["diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight"] = _pair(g, 3 * o, i, RANK, 1.0)
    sd["diffusion_model.double_blocks.0.img_attn.qkv.alpha"] = torch.tensor(2.0)
    _save(os.path.join(out, "bfl_with_alpha.safetensors"), sd)
    files["bfl_with_alpha"] = dict(format="bfl_with_alpha", dtype="float32", keys="bfl keys plus diffusion_model.<module>.alpha",
                                   converter="_convert_non_diffusers_flux2_lora_to_diffusers: .alpha is left over -> ValueError",
                                   alpha=2.0, rank=RANK)
    g = _gen(207)
    sd = {}
    sd["diffusion_model.double_blocks.0.img_attn.qkv.lora_down.weight"], sd["diffusion_model.double_blocks.0.img_attn.qkv.lora_up.weight"] = _pair(g, 3 * o, i, RANK, 1.0)
    _save(os.path.join(out, "bfl_lora_down_up.safetensors"), sd)
    files["bfl_lora_down_up"] = dict(
        format="bfl_lora_down_up", dtype="float32", keys="diffusion_model.<BFL module>.lora_down.weight / lora_up.weight",
        converter="routed to _convert_kohya_flux2_lora_to_diffusers (any '.lora_down.weight'), which only knows "
                  "lora_unet_ names: every key dropped with a warning, nothing loaded", alpha=None, rank=RANK)
    g = _gen(208)
    sd = {}
    for name, shape_of in (("double_blocks_0_img_attn_proj", "transformer_blocks.0.attn.to_out.0"),
                           ("double_stream_modulation_img_lin", "double_stream_modulation_img.linear")):
        o2, i2 = _shape(base, shape_of)
        k = "lora_unet_" + name
        sd[f"{k}.lora_down.weight"], sd[f"{k}.lora_up.weight"] = _pair(g, o2, i2, RANK, 1.0)
        sd[f"{k}.alpha"] = torch.tensor(float(RANK))
    _save(os.path.join(out, "kohya_modulation.safetensors"), sd)
    files["kohya_modulation"] = dict(
        format="kohya_modulation", dtype="float32", keys="kohya keys incl. lora_unet_double_stream_modulation_img_lin",
        converter="_convert_kohya_flux2_lora_to_diffusers has no modulation mapping: that key dropped with a warning, "
                  "the rest loads", alpha=float(RANK), rank=RANK)
    g = _gen(209)
    sd = {}
    o, i = _shape(base, "x_embedder")
    sd["base_model.model.x_embedder.lora_A.weight"], sd["base_model.model.x_embedder.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    _save(os.path.join(out, "peft_non_block.safetensors"), sd)
    files["peft_non_block"] = dict(
        format="peft_non_block", dtype="float32", keys="base_model.model.x_embedder.lora_A/B.weight",
        converter="base_model.model. -> diffusion_model. -> _convert_non_diffusers_flux2_lora_to_diffusers, which knows "
                  "x_embedder only by its BFL name img_in: left over -> ValueError", alpha=None, rank=RANK)
    g = _gen(210)
    sd = {}
    o, i = _shape(base, "transformer_blocks.0.attn.to_k")
    sd["transformer.transformer_blocks.0.attn.to_k.lora_A.weight"], sd["transformer.transformer_blocks.0.attn.to_k.lora_B.weight"] = _pair(g, o, i, RANK, 1.0)
    sd["transformer.transformer_blocks.0.attn.to_qkv.lora_A.weight"], sd["transformer.transformer_blocks.0.attn.to_qkv.lora_B.weight"] = _pair(g, 3 * o, i, RANK, 1.0)
    _save(os.path.join(out, "unmatched_key.safetensors"), sd)
    files["unmatched_key"] = dict(
        format="unmatched_key", dtype="float32",
        keys="diffusers keys: one real module (transformer_blocks.0.attn.to_k) and one that matches nothing "
             "(transformer_blocks.0.attn.to_qkv, which exists only after fuse_qkv_projections)",
        converter="none", alpha=None, rank=RANK)
    return files


# ---------------------------------------------------------------------------------------------
# Loading, probing, merging
# ---------------------------------------------------------------------------------------------

class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.levelname}: {record.getMessage()}")


def _clean(text):
    """Diffusers' text without machine paths, trailing blanks or hash-seed-dependent set order."""
    text = text.replace(EXPORTS + os.sep, "ReferenceExports/").replace(EXPORTS, "ReferenceExports")
    text = re.sub(r"\{('[^']*'(?:, '[^']*')*)\}",
                  lambda m: "{" + ", ".join(sorted(re.findall(r"'[^']*'", m.group(1)))) + "}", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@contextlib.contextmanager
def captured():
    """Collects diffusers' log warnings/errors and Python warnings (peft's) as text."""
    handler = _Capture()
    logger = logging.getLogger("diffusers")
    logger.addHandler(handler)
    out = []
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            yield out
    finally:
        logger.removeHandler(handler)
    msgs = handler.records + [f"{x.category.__name__}: {x.message}" for x in w
                              if "torch_dtype" not in str(x.message)]
    out.extend(_clean(m) for m in msgs)


def _pipeline_class(model):
    import diffusers

    return getattr(diffusers, PIPELINES[model])


def _load_pipe(model):
    folder = os.path.join(EXPORTS, model, "checkpoints", "base")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pipe = _pipeline_class(model).from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def lora_layers(transformer):
    from peft.tuners.lora import LoraLayer

    return {n: m for n, m in transformer.named_modules() if isinstance(m, LoraLayer)}


def adapter_info(transformer, adapter):
    """The LoraConfig diffusers built for `adapter` and peft's per-module r, alpha, scaling."""
    cfg = transformer.peft_config[adapter]
    modules = {}
    for n, m in sorted(lora_layers(transformer).items()):
        if adapter in m.lora_A:
            modules[n] = dict(r=int(m.r[adapter]), lora_alpha=float(m.lora_alpha[adapter]), scaling=float(m.scaling[adapter]))
    return dict(
        config=dict(r=cfg.r, lora_alpha=cfg.lora_alpha, rank_pattern=dict(sorted(cfg.rank_pattern.items())),
                    alpha_pattern=dict(sorted(cfg.alpha_pattern.items())), use_rslora=cfg.use_rslora, use_dora=cfg.use_dora,
                    target_modules=sorted(cfg.target_modules) if cfg.target_modules else None),
        modules=modules)


def probe(model, path):
    """What `model`'s pipeline does with `pipe.load_lora_weights(path)`: outcome and messages."""
    pipe = _load_pipe(model)
    result = {}
    with captured() as msgs:
        try:
            pipe.load_lora_weights(path)
        except Exception as e:  # noqa: BLE001 - recording diffusers' answer
            result = dict(outcome="exception", exception=type(e).__name__, message=_clean(str(e)))
    if not result:
        adapters = pipe.get_list_adapters().get("transformer", [])
        layers = lora_layers(pipe.transformer)
        result = dict(outcome="loaded" if adapters else "nothing_loaded", adapters=adapters,
                      modules_with_lora=sorted(layers))
    result["messages"] = msgs
    return result


def effective_weights(transformer, modules):
    """W + sum scaling * B @ A for each module, computed by hand from the loaded peft layers."""
    layers = lora_layers(transformer)
    out = {}
    for m in modules:
        layer = layers[m]
        w = layer.base_layer.weight.detach().clone()
        for a in layer.active_adapters:
            if a in layer.lora_A:
                w = w + (layer.lora_B[a].weight @ layer.lora_A[a].weight) * layer.scaling[a]
        out[m] = w
    return out


@contextlib.contextmanager
def after_from_pretrained(cls, fn):
    """Makes `cls.from_pretrained` call `fn(pipe)` on the pipeline it returns (the runners of
    export_cases load the pipeline themselves)."""
    assert "from_pretrained" not in cls.__dict__
    original = cls.from_pretrained

    def patched(*a, **kw):
        pipe = original(*a, **kw)
        fn(pipe)
        return pipe

    cls.from_pretrained = patched
    try:
        yield
    finally:
        del cls.from_pretrained


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

def _base_case(model):
    import regenerate

    case = next(c for c in regenerate.CASES[model] if c["name"] == BASE_CASE)
    return dict(case, stored_dtype=str(regenerate.CHECKPOINTS[model]["base"]["dtype"]).replace("torch.", ""))


def run_plain(model):
    """The base case without LoRA: must reproduce the committed case bit for bit (the LoRA cases
    differ from it by the LoRA only)."""
    folder = os.path.join(EXPORTS, model, "checkpoints", "base")
    _, rec, images = getattr(ex, RUNNERS[model])(folder, _base_case(model))
    rec.put("image.uint8", torch.from_numpy((images[0] * 255).round().astype("uint8")))
    committed = load_file(os.path.join(EXPORTS, model, "cases", BASE_CASE, "tensors.safetensors"))
    same = all(torch.equal(rec.t[k], committed[k]) for k in ("final_latents", "vae.decode.out", "image.uint8"))
    return rec, same


def export_lora_case(model, name, adapters, merged_modules, file_info, plain_rec, plain_same):
    """One case: the LoRAs loaded as `adapters` says, then the base case's call."""
    folder = os.path.join(EXPORTS, model, "checkpoints", "base")
    case = dict(_base_case(model), name=name)
    out_dir = os.path.join(EXPORTS, model, "cases", name)
    rel = {stem: f"lora/{model}/{stem}.safetensors" for _, stem, _ in adapters}
    calls, state = [], {}

    def load(pipe):
        for adapter, stem, _ in adapters:
            path = os.path.join(EXPORTS, rel[stem])
            if adapter is None:
                pipe.load_lora_weights(path)
                calls.append(f"pipe.load_lora_weights('{rel[stem]}')")
            else:
                pipe.load_lora_weights(path, adapter_name=adapter)
                calls.append(f"pipe.load_lora_weights('{rel[stem]}', adapter_name='{adapter}')")
        if adapters[0][0] is not None:
            names, weights = [a for a, _, _ in adapters], [w for _, _, w in adapters]
            pipe.set_adapters(names, adapter_weights=weights)
            calls.append(f"pipe.set_adapters({names}, adapter_weights={weights})")
        state["adapters"] = pipe.get_active_adapters()

    with after_from_pretrained(_pipeline_class(model), load):
        pipe, rec, images = getattr(ex, RUNNERS[model])(folder, case)
    t = pipe.transformer
    by_hand = effective_weights(t, merged_modules)
    infos = {a: adapter_info(t, a) for a in state["adapters"]}
    pipe.fuse_lora(components=["transformer"], lora_scale=1.0, adapter_names=state["adapters"])
    layers = lora_layers(t)
    for m in merged_modules:
        fused = layers[m].base_layer.weight.detach()
        err = float((fused - by_hand[m]).abs().max() / by_hand[m].abs().max())
        assert err < 1e-6, f"{name} {m}: fuse_lora differs from W + sum s B A by {err}"
        rec.put(f"lora.merged.{m}.weight", fused)

    rec.put("scheduler.sigmas", pipe.scheduler.sigmas)
    rec.put("scheduler.timesteps", pipe.scheduler.timesteps)
    img = images[0]
    rec.put("image.float", torch.from_numpy(np.ascontiguousarray(img)))
    u8 = (img * 255).round().astype("uint8")
    rec.put("image.uint8", torch.from_numpy(u8))
    checks = ex._image_checks(rec, "noise" if model == "zimage" else "latents.packed", "final_latents")
    ex._enforce(checks, name)
    diff = (rec.t["image.uint8"].double() - plain_rec.t["image.uint8"].double()).abs()
    checks["lora_image_mean_abs_diff_levels"] = round(float(diff.mean()), 4)
    checks["lora_image_max_abs_diff_levels"] = int(diff.max())
    checks["lora_final_latents_relative_change"] = round(float(
        (rec.t["final_latents"] - plain_rec.t["final_latents"]).norm() / plain_rec.t["final_latents"].norm()), 6)
    assert checks["lora_image_mean_abs_diff_levels"] >= 4, f"{name}: the LoRA barely changes the image: {checks}"
    assert torch.equal(rec.t["noise"], plain_rec.t["noise"])

    os.makedirs(out_dir, exist_ok=True)
    keys = save_tensors(os.path.join(out_dir, "tensors.safetensors"), rec.t)
    save_png(os.path.join(out_dir, "image.png"), u8)
    adapters_out = []
    for (adapter, stem, weight), active in zip(adapters, state["adapters"]):
        info = file_info[stem]
        adapters_out.append(dict(
            adapter_name=active, file=rel[stem], format=info["format"], file_dtype=info["dtype"], rank=info["rank"],
            alpha=info["alpha"], converter=info["converter"], set_adapters_weight=weight,
            targets=info["targets"], lora_config=infos[active]["config"],
            peft_modules=infos[active]["modules"]))
    manifest = {
        "case": name, "model": model, "pipeline_class": type(pipe).__name__,
        "checkpoint": os.path.relpath(folder, EXPORTS), "prompt": case["prompt"], "negative_prompt": case.get("negative_prompt"),
        "seed": case["seed"], "steps": case["steps"], "guidance_scale": case["guidance"],
        "height": case["height"], "width": case["width"], "stored_dtype": case["stored_dtype"],
        "versions": dict(versions(), peft=__import__("peft").__version__),
        "configs": ex._component_configs(folder), "checks": checks,
        "keys": keys, "files": ["tensors.safetensors", "image.png", "manifest.json"],
        "lora": {
            "calls": calls, "active_adapters": state["adapters"], "adapters": adapters_out,
            "merged_keys": [f"lora.merged.{m}.weight" for m in merged_modules],
            "same_call_without_lora": f"{model}/cases/{BASE_CASE}",
            "same_call_without_lora_reproduced_bitwise": plain_same,
            "semantics": SEMANTICS,
        },
    }
    write_json(os.path.join(out_dir, "manifest.json"), manifest)
    print(f"case {model}/{name}: {checks}", flush=True)
    return f"{model}/cases/{name}"


# ---------------------------------------------------------------------------------------------

def main():
    setup_torch()
    lora_root = os.path.join(EXPORTS, "lora")
    index_cases = []
    for model in ("zimage", "klein"):
        out = os.path.join(lora_root, model)
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.makedirs(out)
    makers = {"zimage": make_zimage_files, "klein": make_klein_files}
    all_files = {m: makers[m](os.path.join(lora_root, m)) for m in ("zimage", "klein")}

    for model in ("zimage", "klein"):
        out = os.path.join(lora_root, model)
        cls = _pipeline_class(model)
        files = all_files[model]
        converted = {}
        for stem, info in sorted(files.items()):
            path = os.path.join(out, f"{stem}.safetensors")
            raw = load_file(path)
            with safe_open(path, "pt") as f:
                meta = f.metadata() or {}
            info["file"] = f"lora/{model}/{stem}.safetensors"
            info["bytes"] = os.path.getsize(path)
            info["file_keys"] = {k: dict(dtype=str(v.dtype).replace("torch.", ""), shape=list(v.shape)) for k, v in sorted(raw.items())}
            info["file_metadata"] = {k: (json.loads(v) if k == "lora_adapter_metadata" else v) for k, v in sorted(meta.items())}
            # What every pipeline of both families does with it.
            info["load_results"] = {m: probe(m, path) for m in ("zimage", "klein")}
            res = info["load_results"][model]
            info["accepted"] = res["outcome"] == "loaded"
            if info["accepted"]:
                with captured() as msgs:
                    sd = cls.lora_state_dict(path)
                info["lora_state_dict_messages"] = msgs
                for k, v in sd.items():
                    converted[f"{stem}/{k}"] = v.detach().to(torch.float32).clone()
                info["converted_keys"] = {k: list(v.shape) for k, v in sorted(sd.items())}
                pipe = _load_pipe(model)
                with captured():
                    pipe.load_lora_weights(path)
                adapter = pipe.get_list_adapters()["transformer"][0]
                info["peft"] = adapter_info(pipe.transformer, adapter)
                info["targets"] = sorted(info["peft"]["modules"])
            else:
                info["targets"] = []
        save_file(dict(sorted(converted.items())), os.path.join(out, "converted.safetensors"))
        write_json(os.path.join(out, "manifest.json"), {
            "model": model, "pipeline_class": PIPELINES[model], "checkpoint": f"{model}/checkpoints/base",
            "description": "tiny random LoRAs in the key formats people download; 'accepted' = "
                           f"{PIPELINES[model]}.load_lora_weights(file) loads it; converted.safetensors holds "
                           "<file stem>/<key> of lora_state_dict(file) for each accepted file (float32); load_results: "
                           "what each family's pipeline does with the file (diffusers' log lines and Python warnings "
                           "as text)",
            "files": files, "semantics": SEMANTICS,
            "versions": dict(versions(), peft=__import__("peft").__version__),
        })

        plain_rec, plain_same = run_plain(model)
        print(f"{model}: base case reproduced bitwise: {plain_same}", flush=True)
        for name, adapters, merged in CASES[model]:
            case_dir = os.path.join(EXPORTS, model, "cases", name)
            if os.path.isdir(case_dir):
                shutil.rmtree(case_dir)
            index_cases.append(export_lora_case(model, name, adapters, merged, files, plain_rec, plain_same))

    index_path = os.path.join(EXPORTS, "index.json")
    index = json.load(open(index_path))  # re-read just before writing: other exporters add their own lists
    index["lora_cases"] = index_cases
    index["loras"] = "lora"
    write_json(index_path, index)
    assert_no_machine_paths(lora_root)
    for c in index_cases:
        assert_no_machine_paths(os.path.join(EXPORTS, c))
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(lora_root) for f in fs)
    total += sum(os.path.getsize(os.path.join(EXPORTS, c, f)) for c in index_cases for f in os.listdir(os.path.join(EXPORTS, c)))
    print(f"LoRA exports: {total / 1048576:.2f} MiB, {len(index_cases)} cases")


if __name__ == "__main__":
    main()
