#!/usr/bin/env python3
"""Generates TensorKit's affine-quantization fixtures with MLX itself (mx.quantize /
mx.dequantize, CPU backend, mlx 0.32.2): packed codes, scales and biases for bits 3, 4, 5, 6, 8
(group 64) from bf16 and float32 weights, and float64 numpy products of float32 activations with
the dequantized weights (the oracle of the quantized linear).

Usage: scripts/reference/setup-mlx && scripts/reference/.venv-mlx/bin/python scripts/reference/make_quant_fixtures.py
Writes Packages/TensorKit/Tests/TensorKitTests/Fixtures/quant.json (deterministic).
"""
import json
import os

import mlx.core as mx
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Packages", "TensorKit", "Tests", "TensorKitTests", "Fixtures", "quant.json")
rng = np.random.default_rng(20261130)
GROUP = 64


def floats(a):
    # float32 values written with repr: they parse back bit for bit.
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def weights(n, k):
    """Normal weights with the groups MLX treats specially: a constant group, an all-zero
    group, a group whose minimum dominates, one whose maximum dominates, one outlier."""
    w = rng.standard_normal((n, k)).astype(np.float32) * 0.05
    w[0, :GROUP] = 0.0
    w[1, :GROUP] = 0.0123
    w[2, :GROUP] -= 0.3
    w[3, :GROUP] += 0.3
    w[4, min(GROUP + 5, k - 1)] = 2.5
    return w


def quantize_case(bits, dtype, n=6, k=192):
    w = mx.array(weights(n, k)).astype(dtype)
    q, s, b = mx.quantize(w, group_size=GROUP, bits=bits)
    deq = mx.dequantize(q, s, b, group_size=GROUP, bits=bits)
    return {
        "bits": bits, "group_size": GROUP, "dtype": "bfloat16" if dtype == mx.bfloat16 else "float32",
        "shape": [n, k],
        "w": floats(np.array(w.astype(mx.float32))),
        "packed": [int(v) for v in np.array(q).ravel()],
        "scales": floats(np.array(s.astype(mx.float32))),
        "biases": floats(np.array(b.astype(mx.float32))),
        "dequant": floats(np.array(deq.astype(mx.float32))),
    }


def linear_case(bits, m, k, n, exact=False):
    """y = x · deq(W)ᵀ in float64 from MLX's stored codes, scales and biases. exact: activations
    that per-token, per-group symmetric int8 quantization represents exactly (integers in
    [-127, 127] times a power of two, each group holding ±127), and weights at the codes' ends."""
    if exact:
        w = np.where(rng.random((n, k)) < 0.5, -1.0, 1.0).astype(np.float32) * 0.5
        ints = rng.integers(-127, 128, size=(m, k))
        ints[:, ::GROUP] = 127 * np.where(rng.random((m, k // GROUP)) < 0.5, -1, 1)
        x = (ints * 2.0 ** -6).astype(np.float32)
    else:
        w = weights(n, k)
        x = (rng.standard_normal((m, k)) * np.linspace(0.2, 3, k)).astype(np.float32)
    wm = mx.array(w).astype(mx.bfloat16)
    q, s, b = mx.quantize(wm, group_size=GROUP, bits=bits)
    qn = np.array(q)
    sn = np.array(s.astype(mx.float32)).astype(np.float64)
    bn = np.array(b.astype(mx.float32)).astype(np.float64)
    # Unpack the codes here (independently of TensorKit): a little-endian bit stream of `bits`.
    words = qn.astype(np.uint64)
    codes = np.zeros((n, k), dtype=np.int64)
    for r in range(n):
        stream = 0
        for i, word in enumerate(words[r]):
            stream |= int(word) << (32 * i)
        for c in range(k):
            codes[r, c] = (stream >> (bits * c)) & ((1 << bits) - 1)
    deq = codes * np.repeat(sn, GROUP, axis=1) + np.repeat(bn, GROUP, axis=1)
    assert np.allclose(deq, np.array(mx.dequantize(q, s, b, group_size=GROUP, bits=bits).astype(mx.float32)), atol=1e-2)
    y = x.astype(np.float64) @ deq.T
    return {
        "bits": bits, "group_size": GROUP, "m": m, "k": k, "n": n, "exact_activations": exact,
        "x": floats(x), "packed": [int(v) for v in qn.ravel()],
        "scales": floats(sn), "biases": floats(bn), "y": [float(v) for v in y.ravel()],
        "abs_products": [float(v) for v in (np.abs(x.astype(np.float64)) @ np.abs(deq).T).ravel()],
    }


def main():
    out = {
        "mlx_version": mx.__version__,
        "quantize": [quantize_case(b, d) for b in (3, 4, 5, 6, 8) for d in (mx.bfloat16, mx.float32)],
        "linear": [linear_case(8, 7, 192, 40), linear_case(4, 5, 128, 33), linear_case(3, 9, 256, 20),
                   linear_case(6, 4, 192, 17), linear_case(5, 3, 64, 48), linear_case(8, 6, 192, 37, exact=True),
                   linear_case(4, 6, 128, 35, exact=True)],
    }
    with open(OUT, "w") as f:
        json.dump(out, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
