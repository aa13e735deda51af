#!/usr/bin/env python3
"""Generates SafetensorsIO's fixtures (deterministic; run twice -> identical files).

- python_bf16.safetensors: written by the Python `safetensors` package from torch tensors
  (bf16, f16, f32, i64, u8 and bool, with metadata); python_bf16.json holds the values as
  torch reads them back (float64 / ints), for the Swift test to compare against.
- malformed/: one file (or sharded folder) per way a checkpoint can be broken, and
  malformed/cases.json mapping each to the SafetensorsError case the reader must throw.
- sharded/: a valid two-shard checkpoint with its index.

Usage: scripts/reference/.venv/bin/python scripts/reference/make_safetensors_fixtures.py
"""
import json
import os
import shutil
import struct

import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Packages", "SafetensorsIO", "Tests", "SafetensorsIOTests", "Fixtures")


def header_file(path, header, data=b"", raw_header=None, length=None):
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    n = len(h) if length is None else length
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", n) + h + data)


def main():
    if os.path.isdir(OUT):
        for name in ("malformed", "sharded"):
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)

    # --- a file written by the Python package ------------------------------------------------
    g = torch.Generator().manual_seed(0)
    tensors = {
        "weight.bf16": (torch.randn(3, 5, generator=g) * 3).to(torch.bfloat16),
        "weight.f16": (torch.randn(4, generator=g)).to(torch.float16),
        "weight.f32": torch.tensor([[1.5, -2.0], [float("inf"), -0.0]], dtype=torch.float32),
        "ids": torch.tensor([0, 151643, -5, 2**40], dtype=torch.int64),
        "pixels": torch.tensor([[0, 127, 255]], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "scalar": torch.tensor(7.25, dtype=torch.bfloat16),
    }
    save_file(tensors, os.path.join(OUT, "python_bf16.safetensors"), metadata={"format": "pt", "note": "écrit par safetensors"})
    expected = {}
    for k, t in tensors.items():
        vals = t.to(torch.float64).flatten().tolist() if t.dtype.is_floating_point else t.to(torch.int64).flatten().tolist()
        expected[k] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                       "values": [v if v == v and abs(v) != float("inf") else str(v) for v in vals]}
    with open(os.path.join(OUT, "python_bf16.json"), "w") as f:
        json.dump(expected, f, sort_keys=True, indent=1)
        f.write("\n")

    # --- a valid sharded checkpoint ------------------------------------------------------------
    sh = os.path.join(OUT, "sharded")
    os.makedirs(sh)
    a = {"layers.0.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    b = {"layers.1.weight": torch.arange(4, dtype=torch.float32).to(torch.bfloat16), "norm.weight": torch.ones(2)}
    save_file(a, os.path.join(sh, "model-00001-of-00002.safetensors"))
    save_file(b, os.path.join(sh, "model-00002-of-00002.safetensors"))
    index = {"metadata": {"total_size": 24 + 8 + 8},
             "weight_map": {"layers.0.weight": "model-00001-of-00002.safetensors",
                            "layers.1.weight": "model-00002-of-00002.safetensors",
                            "norm.weight": "model-00002-of-00002.safetensors"}}
    with open(os.path.join(sh, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, indent=2)

    # --- malformed files ---------------------------------------------------------------------
    m = os.path.join(OUT, "malformed")
    os.makedirs(m)
    cases = {}
    ok = {"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    data8 = struct.pack("<2f", 1.0, 2.0)

    def case(name, kind, **kw):
        header_file(os.path.join(m, name + ".safetensors"), **kw)
        cases[name + ".safetensors"] = kind

    with open(os.path.join(m, "truncated_prefix.safetensors"), "wb") as f:
        f.write(b"\x10\x00\x00")
    cases["truncated_prefix.safetensors"] = "truncatedPrefix"
    with open(os.path.join(m, "empty.safetensors"), "wb") as f:
        pass
    cases["empty.safetensors"] = "truncatedPrefix"
    case("header_too_large", "headerTooLarge", header=ok, data=data8, length=2**63 + 5)
    case("header_absurd", "headerTooLarge", header=ok, data=data8, length=100_000_001)
    case("header_past_end", "headerPastEnd", header=ok, data=data8, length=4096)
    case("truncated_data", "invalidOffsets", header={"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, data=data8)
    case("not_utf8", "invalidHeader", header=None, raw_header=b'{"t\xff\xfe": 1}    ')
    case("not_json", "invalidHeader", header=None, raw_header=b'{"t": {"dtype": "F32",,}}')
    case("not_object", "invalidHeader", header=None, raw_header=b'["t", 1]')
    case("deeply_nested", "invalidHeader", header=None, raw_header=b'{"t": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    case("entry_not_object", "invalidHeader", header={"t": 5})
    case("unknown_dtype", "unknownDType", header={"t": {"dtype": "F31", "shape": [2], "data_offsets": [0, 8]}}, data=data8)
    case("negative_shape", "invalidShape", header={"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, data=data8)
    case("fractional_shape", "invalidShape", header={"t": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}, data=data8)
    case("overflowing_shape", "invalidShape", header={"t": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, data=data8)
    case("size_mismatch", "sizeMismatch", header={"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, data=data8)
    case("offsets_out_of_range", "invalidOffsets", header={"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, data=data8)
    case("offsets_reversed", "invalidOffsets", header={"t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, data=data8)
    case("offsets_not_pair", "invalidOffsets", header={"t": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, data=data8)
    case("overlapping", "invalidOffsets", header={"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                                  "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, data=data8)
    case("hole", "invalidOffsets", header={"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                           "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, data=data8 + data8[:4])
    case("trailing_bytes", "incompleteData", header=ok, data=data8 + b"\x00" * 4)
    case("metadata_not_strings", "invalidMetadata", header={"__metadata__": {"k": 1}, **ok}, data=data8)
    case("duplicate_key", "invalidHeader", header=None,
         raw_header=b'{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data=data8)

    def sharded(name, kind, weight_map, files, index_raw=None):
        d = os.path.join(m, name)
        os.makedirs(d)
        for fname, ts in files.items():
            save_file(ts, os.path.join(d, fname))
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            f.write(index_raw if index_raw is not None else json.dumps({"weight_map": weight_map}, sort_keys=True))
        cases[name] = kind

    one = {"x": torch.ones(2)}
    sharded("missing_shard", "invalidIndex", {"x": "a.safetensors", "y": "b.safetensors"}, {"a.safetensors": one})
    sharded("index_names_absent_tensor", "invalidIndex", {"x": "a.safetensors", "y": "a.safetensors"}, {"a.safetensors": one})
    sharded("shard_outside_folder", "invalidIndex", {"x": "../a.safetensors"}, {"a.safetensors": one})
    sharded("shard_absolute_path", "invalidIndex", {"x": "/etc/passwd"}, {"a.safetensors": one})
    sharded("unlisted_tensor", "invalidIndex", {"x": "a.safetensors"}, {"a.safetensors": {"x": torch.ones(2), "z": torch.zeros(1)}})
    sharded("index_not_json", "invalidIndex", None, {"a.safetensors": one}, index_raw='{"weight_map": {"x": "a.safetensors"')
    sharded("index_no_weight_map", "invalidIndex", None, {"a.safetensors": one}, index_raw='{"metadata": {}}')
    # a shard that is itself malformed
    d = os.path.join(m, "malformed_shard")
    os.makedirs(d)
    header_file(os.path.join(d, "a.safetensors"), header={"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, data=data8[:4])
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"weight_map": {"x": "a.safetensors"}}, f)
    cases["malformed_shard"] = "invalidOffsets"

    with open(os.path.join(m, "cases.json"), "w") as f:
        json.dump(cases, f, sort_keys=True, indent=1)
        f.write("\n")
    print("wrote", len(cases), "malformed cases,", "python_bf16.safetensors and sharded/ under", os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
