"""Shared helpers of the reference runners: pinned versions, determinism, file writing.

Every file written here is deterministic: JSON with sorted keys and no machine paths or
timestamps, safetensors from the `safetensors` package, PNG from Pillow without metadata.
"""
import json
import os
import platform

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORTS = os.path.join(ROOT, "ReferenceExports")
DIFFUSERS_VERSION = "0.42.1"
TORCH_THREADS = 2


def setup_torch():
    """Asserts the pinned diffusers, fixes the thread count, disables grad, and loads pipelines
    with low_cpu_mem_usage=False."""
    import diffusers
    import diffusers.models.modeling_utils as modeling_utils
    import diffusers.pipelines.pipeline_utils as pipeline_utils

    assert diffusers.__version__ == DIFFUSERS_VERSION, f"diffusers {diffusers.__version__} != {DIFFUSERS_VERSION}"
    # peft (needed by the LoRA fixtures) pulls in accelerate, which turns diffusers' default
    # low_cpu_mem_usage on: parameters then keep the loaded tensors' memory instead of fresh
    # allocations, and MKL's float sums change in the last bits with that (the sharded cases
    # differ). Keep the default the committed exports were made with (no accelerate: False).
    modeling_utils._LOW_CPU_MEM_USAGE_DEFAULT = False
    pipeline_utils._LOW_CPU_MEM_USAGE_DEFAULT = False
    torch.set_num_threads(TORCH_THREADS)
    torch.set_grad_enabled(False)
    torch.use_deterministic_algorithms(True)


def versions():
    import diffusers
    import safetensors
    import tokenizers
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
    }


def rel(path):
    """A path relative to the repository root (what manifests record)."""
    return os.path.relpath(path, ROOT)


def clean_json_value(v):
    if isinstance(v, dict):
        return {k: clean_json_value(x) for k, x in v.items() if k != "_name_or_path"}
    if isinstance(v, (list, tuple)):
        return [clean_json_value(x) for x in v]
    return v


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(clean_json_value(obj), f, sort_keys=True, indent=2, ensure_ascii=False)
        f.write("\n")


def normalise_json_files(folder):
    """Rewrites every JSON file under `folder` with sorted keys and without `_name_or_path`."""
    for dirpath, _, files in os.walk(folder):
        for name in sorted(files):
            if name.endswith(".json"):
                p = os.path.join(dirpath, name)
                with open(p, encoding="utf-8") as f:
                    obj = json.load(f)
                write_json(p, obj)


def assert_no_machine_paths(folder):
    bad = []
    for dirpath, _, files in os.walk(folder):
        for name in files:
            if name.endswith((".json", ".jinja", ".txt")):
                text = open(os.path.join(dirpath, name), encoding="utf-8").read()
                # Absolute folders of build machines (spelled in parts so this file has none).
                for marker in ("/" + "work/", "/" + "tmp/", "/" + "root/", "/" + "home/"):
                    if marker in text:
                        bad.append(f"{rel(os.path.join(dirpath, name))} contains {marker}")
    assert not bad, bad


def save_tensors(path, tensors, kinds=None):
    """Saves a dict of tensors: floats as F32, ids as I64, masks as U8 (never anything else)."""
    from safetensors.torch import save_file

    out = {}
    for k, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bool:
            t = t.to(torch.uint8)
        elif t.is_floating_point():
            t = t.to(torch.float32)
        elif t.dtype not in (torch.int64, torch.uint8):
            t = t.to(torch.int64)
        out[k] = t
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(out, path)
    return {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in sorted(out.items())}


def save_png(path, array_hwc_uint8):
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.asarray(array_hwc_uint8, dtype=np.uint8), "RGB").save(path, optimize=False)


def seeded_generator(seed):
    return torch.Generator("cpu").manual_seed(seed)
