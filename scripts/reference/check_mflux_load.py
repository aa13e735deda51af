#!/usr/bin/env python3
"""Checks that mflux 0.24 loads a folder written by another program (mflux-swift's `mflux save`)
exactly as it loads its own saves.

Usage: scripts/reference/.venv-mflux/bin/python scripts/reference/check_mflux_load.py FOLDER CASE [--tol X] [--quantize N]
  FOLDER  an mflux-format folder with the tiny dims of CASE (tokenizer/, vae/, transformer/, text_encoder/)
  CASE    zimage-q4 | klein-bf16 | klein-q8: the reference in ReferenceExports/mflux/ (make_mflux_cases.py)
  --quantize N  the reference is what mflux builds when it loads ReferenceExports/mflux/CASE with -q N
                (on-the-fly quantization; CASE must be unquantized), e.g. a folder saved with -q 4 from
                klein-bf16 against `klein-bf16 --quantize 4`
  --tol X       largest accepted max|diff| / max|ref| per float output (default 1e-6: a re-save is lossless)

Three checks; any failure exits 1:
  1. Files. Per component: the shards' metadata (quantization_level, mflux_version), the index's
     weight_map against the shards, then the stored tensors against
       a) the module tree mflux builds for this folder (its own WeightLoader, then nn.quantize with
          the per-layer predicate it derives from the stored shapes, as WeightApplier does): MLX's
          update(strict=False) silently drops a key it does not know and keeps the random init of a
          parameter the folder lacks, and it checks no shape, so these are checked here;
       b) what mflux's own save holds (names, shapes and dtypes of the reference's parameters).
     A missing computed array (rotary_emb.inv_freq, recomputed by the module) is a warning only.
  2. Loading: the folder is loaded with mflux's real loader (ZImage / Flux2Klein(model_path=FOLDER)).
  3. Outputs: the prompt's token ids and text embeddings, one transformer call and one VAE decode,
     from the inputs stored in ReferenceExports/mflux/CASE.cases.safetensors, against the stored
     outputs (or, with --quantize, against the reference loaded with -q N).
"""
import argparse
import json
import sys
from pathlib import Path

import mflux_tiny as T  # sets HF_HUB_OFFLINE before mflux is imported
import mlx.core as mx
from mlx.utils import tree_flatten
from safetensors.numpy import load_file

from mflux.models.common.weights.loading.weight_applier import WeightApplier
from mflux.models.common.weights.loading.weight_loader import WeightLoader

SHOWN = 25  # problems listed per component before "... and N more"
DTYPES = {"bfloat16": mx.bfloat16, "float32": mx.float32, "float16": mx.float16, "int32": mx.int32}


def level_string(bits) -> str:
    return str(bits)  # ModelSaver writes str(bits): "4", "8" or "None"


def parse_level(value):
    return None if value in (None, "None", "null", "") else int(value)  # as WeightLoader does


def describe(shape, dtype) -> str:
    return f"{list(shape)} {str(dtype).replace('mlx.core.', '')}"


# ---------------------------------------------------------------------------------------------
# 1. Files
# ---------------------------------------------------------------------------------------------
def read_component(path: Path, expected_level: str, problems: list) -> dict:
    """The tensors of one component folder, with the checks of its shards and index."""
    shards = sorted(p for p in path.glob("*.safetensors") if not p.name.startswith("._"))
    if not shards:
        problems.append(f"no *.safetensors in {path.name}/")
        return {}
    tensors, owner = {}, {}
    for shard in shards:
        data, metadata = mx.load(str(shard), return_metadata=True)
        for key in ("quantization_level", "mflux_version"):
            if key not in metadata:
                problems.append(f"{shard.name}: metadata has no {key!r} (mflux needs one of the two to read the folder as its own)")
        level = metadata.get("quantization_level")
        if level is not None and level != expected_level:
            same = parse_level(level) == parse_level(expected_level)
            problems.append(f"{shard.name}: quantization_level {level!r}, mflux-save writes {expected_level!r}" + (" (read the same)" if same else ""))
        extra_meta = sorted(set(metadata) - {"quantization_level", "mflux_version"})
        if extra_meta:
            problems.append(f"{shard.name}: metadata keys mflux-save does not write: {extra_meta}")
        for key, value in data.items():
            if key in tensors:
                problems.append(f"{key}: stored in both {owner[key]} and {shard.name}")
            tensors[key], owner[key] = value, shard.name

    index_path = path / "model.safetensors.index.json"
    if not index_path.is_file():
        problems.append("no model.safetensors.index.json (mflux-save writes one; the loader then reads every shard)")
        return tensors
    index = json.loads(index_path.read_text())
    if set(index) != {"metadata", "weight_map"}:
        problems.append(f"index keys {sorted(index)}, mflux-save writes ['metadata', 'weight_map']")
    if index.get("metadata", {}).get("quantization_level") != expected_level or "mflux_version" not in index.get("metadata", {}):
        problems.append(f"index metadata {index.get('metadata')}, expected quantization_level {expected_level!r} and mflux_version")
    weight_map = index.get("weight_map", {})
    for key in sorted(set(tensors) - set(weight_map)):
        problems.append(f"{key}: in {owner[key]} but not in the index weight_map")
    for key in sorted(set(weight_map) - set(tensors)):
        problems.append(f"{key}: in the index weight_map ({weight_map[key]}) but in no shard")
    for key in sorted(set(weight_map) & set(tensors)):
        if weight_map[key] != owner[key]:
            problems.append(f"{key}: index names {weight_map[key]}, stored in {owner[key]}")
    unindexed = sorted({s.name for s in shards} - set(weight_map.values()))
    if unindexed:
        problems.append(f"shards not named by the index (the loader ignores them): {unindexed}")
    return tensors


def modules_mflux_builds(family: str, folder: Path) -> dict[str, dict]:
    """Name -> (shape, dtype) of the parameters of the module tree mflux builds for this folder,
    before it pushes the weights in: WeightLoader, then (for a quantized folder) nn.quantize with
    WeightApplier's predicate derived from the stored shapes."""
    definition = T.FAMILIES[family]["definition"]
    loaded = WeightLoader.load(weight_definition=definition, model_path=str(folder))
    modules = T.build_modules(family)
    stored = loaded.meta_data.quantization_level
    if stored is not None:
        components = {c.name: c for c in definition.get_components()}
        WeightApplier._quantize(modules, stored, components, definition, weights=loaded)
    return {name: {k: (v.shape, v.dtype) for k, v in tree_flatten(m.parameters())} for name, m in modules.items()}


def check_files(family: str, folder: Path, expected_level: str, reference) -> bool:
    ok = True
    try:
        built = modules_mflux_builds(family, folder)
    except Exception as error:  # noqa: BLE001 - any failure of mflux's loader is a finding
        print(f"  FAIL  mflux's WeightLoader cannot read the folder: {type(error).__name__}: {error}")
        return False
    for component in T.COMPONENTS:
        problems, warnings = [], []
        stored = read_component(folder / component, expected_level, problems)
        module = built[component]
        ref = {k: (v.shape, v.dtype) for k, v in tree_flatten(getattr(reference, component).parameters())}
        for key in sorted(set(module) - set(stored)):
            target = warnings if key.endswith(T.COMPUTED_KEYS) else problems
            target.append(f"missing {key} {describe(*module[key])}: mflux keeps the module's own value" + ("" if target is warnings else " (random init)"))
        for key in sorted(set(stored) - set(module)):
            problems.append(f"extra {key} {describe(stored[key].shape, stored[key].dtype)}: no such parameter in mflux's module tree, update(strict=False) drops it")
        for key in sorted(set(ref) - set(stored) - set(module)):
            problems.append(f"missing {key} {describe(*ref[key])}: mflux's own save has it")
        for key in sorted((set(stored) & set(module)) - set(ref)):
            problems.append(f"{key}: mflux's own save has no such tensor (stored {describe(stored[key].shape, stored[key].dtype)})")
        for key in sorted(set(stored) & set(module)):
            shape, dtype = tuple(stored[key].shape), stored[key].dtype
            if shape != tuple(module[key][0]):
                problems.append(f"{key}: shape {list(shape)}, mflux's module has {list(module[key][0])}")
            if key in ref and (shape != tuple(ref[key][0]) or dtype != ref[key][1]):
                problems.append(f"{key}: stored {describe(shape, dtype)}, mflux's own save has {describe(*ref[key])}")
        status = "ok  " if not problems else "FAIL"
        print(f"  {status}  {component}: {len(stored)} tensors (mflux's own save: {len(ref)})")
        for line in problems[:SHOWN]:
            print(f"          {line}")
        if len(problems) > SHOWN:
            print(f"          ... and {len(problems) - SHOWN} more")
        for line in warnings:
            print(f"  warn    {line}")
        ok = ok and not problems
    if not any((folder / "tokenizer").glob("tokenizer*.json")):
        print("  FAIL  tokenizer/: no tokenizer.json / tokenizer_config.json")
        ok = False
    extra = sorted(p.name for p in folder.iterdir() if p.name not in {*T.COMPONENTS, "tokenizer", "mflux_model.json"})
    if extra:
        print(f"  note  entries mflux-save does not write (mflux ignores them): {extra}")
    if not (folder / "mflux_model.json").is_file():
        print("  note  no mflux_model.json (mflux-save writes it last; the loader never reads it)")
    return ok


# ---------------------------------------------------------------------------------------------
# 3. Outputs
# ---------------------------------------------------------------------------------------------
def compare(name: str, candidate: mx.array, reference: mx.array, tol: float) -> bool:
    if tuple(candidate.shape) != tuple(reference.shape):
        print(f"  FAIL  {name}: shape {list(candidate.shape)}, reference {list(reference.shape)}")
        return False
    if reference.dtype == mx.int32:
        same = bool(mx.array_equal(candidate.astype(mx.int32), reference).item())
        print(f"  {'ok  ' if same else 'FAIL'}  {name}: {'identical' if same else 'differs'} (int32 {list(reference.shape)})")
        return same
    c, r = candidate.astype(mx.float32), reference.astype(mx.float32)
    diff = float(mx.max(mx.abs(c - r)).item())
    scale = float(mx.max(mx.abs(r)).item())
    rel = diff / scale if scale > 0 else diff
    finite = bool(mx.all(mx.isfinite(c)).item())
    ok = finite and rel <= tol
    print(f"  {'ok  ' if ok else 'FAIL'}  {name}: max|diff| {diff:.6g}, max|ref| {scale:.6g}, ratio {rel:.3g}" + ("" if finite else " (non-finite values)"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("case", choices=sorted(T.CASES))
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--quantize", type=int, choices=(3, 4, 5, 6, 8), default=None)
    args = parser.parse_args()

    spec = T.CASES[args.case]
    family = spec["family"]
    reference_folder = T.EXPORTS / args.case
    manifest = json.loads((T.EXPORTS / f"{args.case}.manifest.json").read_text())
    cases = load_file(str(T.EXPORTS / f"{args.case}.cases.safetensors"))
    if args.quantize is not None and spec["bits"] is not None:
        parser.error(f"{args.case} is stored at {spec['bits']} bits; mflux ignores -q on a quantized folder")
    expected_bits = args.quantize if args.quantize is not None else spec["bits"]
    folder = args.folder.resolve()
    if not folder.is_dir():
        parser.error(f"{args.folder} is not a folder")

    label = f"{args.case} loaded with -q {args.quantize}" if args.quantize else args.case
    print(f"check {args.folder} against mflux {manifest['versions']['mflux']} reference {label} "
          f"(quantization_level {level_string(expected_bits)!r}, tol {args.tol:g})")
    reference = T.load_pipeline(family, reference_folder, quantize=args.quantize)

    print("files")
    ok = check_files(family, folder, level_string(expected_bits), reference)

    print("load (mflux's loader)")
    try:
        candidate = T.load_pipeline(family, folder)
    except Exception as error:  # noqa: BLE001
        print(f"  FAIL  {type(error).__name__}: {error}")
        return 1
    if candidate.bits != expected_bits:
        print(f"  FAIL  mflux reads the folder as {candidate.bits}-bit, expected {expected_bits}")
        ok = False
    else:
        print(f"  ok    mflux reads it as quantization {candidate.bits}")

    print("outputs")
    # The transformer and VAE inputs, in the dtype mflux passes them (bf16 values are exact in the file).
    inputs = {
        name: mx.array(value).astype(DTYPES[manifest["tensors"][name]["mflux_dtype"]])
        for name, value in cases.items()
        if name.startswith(("transformer.in.", "vae.in."))
    }
    if args.quantize is None:
        expected = {name: mx.array(value) for name, value in cases.items()}
    else:
        expected = T.compute_outputs(family, reference, inputs)
    try:
        results = T.compute_outputs(family, candidate, inputs)
    except Exception as error:  # noqa: BLE001 - e.g. a wrongly shaped weight that update() accepted
        print(f"  FAIL  mflux raised while running the loaded model: {type(error).__name__}: {error}")
        print("FAIL")
        return 1
    for name in sorted(results):
        if name.startswith("transformer.in."):
            continue  # the inputs themselves, echoed back
        ok = compare(name, results[name], expected[name], args.tol) and ok

    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
