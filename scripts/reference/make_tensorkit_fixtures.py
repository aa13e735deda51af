#!/usr/bin/env python3
"""Generates TensorKit's op fixtures: float32 inputs and float64 numpy reference outputs.

Every expected value is computed here, independently of TensorKit, in float64 from the float32
inputs (then stored as float32). Deterministic: a fixed seed, sorted keys, no timestamps.

Usage: python3 scripts/reference/make_tensorkit_fixtures.py
Writes Packages/TensorKit/Tests/TensorKitTests/Fixtures/ops.json
"""
import json
import math
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Packages", "TensorKit", "Tests", "TensorKitTests", "Fixtures", "ops.json")

rng = np.random.default_rng(20261129)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def rand(*shape, scale=1.0):
    return f32(rng.standard_normal(shape) * scale)


def enc(a, exact=True):
    """{"shape", "data"}; exact: float32 values written so they parse back bit for bit
    (inputs); otherwise 9 significant digits (expected values, compared with tolerances)."""
    a = np.asarray(a)
    vals = []
    for v in a.astype(np.float64).ravel():
        if math.isnan(v):
            vals.append("nan")
        elif math.isinf(v):
            vals.append("inf" if v > 0 else "-inf")
        elif exact:
            vals.append(float(np.float32(v)))
        else:
            vals.append(float("%.9g" % v))
    return {"shape": list(a.shape), "data": vals}


def ref(a):
    return enc(a, exact=False)


def bf16_round(x):
    """float32 -> nearest bfloat16 (ties to even) as float32, via float64 comparison."""
    x = f32(x)
    bits = x.view(np.uint32).astype(np.uint64)
    lo = (bits & 0xFFFF0000).astype(np.uint32).view(np.float32).astype(np.float64)
    hi = ((bits & 0xFFFF0000) + 0x10000).astype(np.uint32).view(np.float32).astype(np.float64)
    xv = x.astype(np.float64)
    dlo, dhi = np.abs(xv - lo), np.abs(hi - xv)
    lo_even = ((bits >> 16) & 1) == 0
    pick_hi = (dhi < dlo) | ((dhi == dlo) & ~lo_even)
    out = np.where(pick_hi, hi, lo)
    return f32(out)


cases = {}

# --- element-wise -----------------------------------------------------------------------------
x = np.concatenate([rand(997, scale=4.0), f32([0.0, -0.0, 1e-30, -1e-30, 20.0, -20.0, 87.0, -87.0, 0.3, -0.3, 0.62, -0.63])])
x64 = x.astype(np.float64)
cases["silu"] = {"x": enc(x), "y": ref(x64 / (1.0 + np.exp(-x64)))}
cases["tanh"] = {"x": enc(x), "y": ref(np.tanh(x64))}
xe = np.concatenate([rand(500, scale=10.0), f32([-87.0, 88.0, 0.0, -100.0])])
cases["exp"] = {"x": enc(xe), "y": ref(np.exp(xe.astype(np.float64)))}

s = rand(6, 37, scale=3.0)
s[2, :5] = -np.inf
s[4, :] = -1e4
s64 = s.astype(np.float64)
e = np.exp(s64 - s64.max(axis=1, keepdims=True))
cases["softmax"] = {"x": enc(s), "y": ref(e / e.sum(axis=1, keepdims=True))}

# --- norms ------------------------------------------------------------------------------------
x = rand(5, 3, 48, scale=2.0) + 0.5
w = rand(48)
x64 = x.astype(np.float64)
ms = (x64 ** 2).mean(axis=-1, keepdims=True)
cases["rmsnorm"] = {"x": enc(x), "w": enc(w), "eps": 1e-5,
                    "y": ref(x64 / np.sqrt(ms + 1e-5) * w.astype(np.float64)),
                    "y_noweight": ref(x64 / np.sqrt(ms + 1e-5))}
b = rand(48)
mean = x64.mean(axis=-1, keepdims=True)
var = ((x64 - mean) ** 2).mean(axis=-1, keepdims=True)
ln = (x64 - mean) / np.sqrt(var + 1e-6)
cases["layernorm"] = {"x": enc(x), "w": enc(w), "b": enc(b), "eps": 1e-6,
                      "y": ref(ln), "y_affine": ref(ln * w.astype(np.float64) + b.astype(np.float64))}

x = rand(2, 8, 5, 3, scale=1.5) + 0.7
g = rand(8)
bb = rand(8)
x64 = x.astype(np.float64).reshape(2, 4, 2 * 5 * 3)
mean = x64.mean(axis=-1, keepdims=True)
var = ((x64 - mean) ** 2).mean(axis=-1, keepdims=True)
gn = ((x64 - mean) / np.sqrt(var + 1e-6)).reshape(2, 8, 5, 3)
gn = gn * g.astype(np.float64)[None, :, None, None] + bb.astype(np.float64)[None, :, None, None]
cases["groupnorm"] = {"x": enc(x), "w": enc(g), "b": enc(bb), "groups": 4, "eps": 1e-6, "y": ref(gn)}

x = rand(2, 6, 4, 5)
rm = rand(6)
rv = f32(np.abs(rand(6)) + 0.1)
std = np.sqrt(rv.astype(np.float64) + 1e-4)[None, :, None, None]
cases["batchnorm"] = {"x": enc(x), "mean": enc(rm), "var": enc(rv), "eps": 1e-4,
                      "normalized": ref((x.astype(np.float64) - rm.astype(np.float64)[None, :, None, None]) / std),
                      "denormalized": ref(x.astype(np.float64) * std + rm.astype(np.float64)[None, :, None, None])}

# --- linear / matmul --------------------------------------------------------------------------
x = rand(7, 33)
w = rand(45, 33, scale=0.2)
bias = rand(45)
wb = bf16_round(w)
cases["linear"] = {"x": enc(x), "w": enc(w), "bias": enc(bias),
                   "y": ref(x.astype(np.float64) @ w.astype(np.float64).T + bias.astype(np.float64)),
                   "w_bf16_values": enc(wb),
                   "y_bf16": ref(x.astype(np.float64) @ wb.astype(np.float64).T + bias.astype(np.float64))}
a = rand(3, 9, 14)
bm = rand(3, 14, 11)
cases["matmul"] = {"a": enc(a), "b": enc(bm), "y": ref(np.matmul(a.astype(np.float64), bm.astype(np.float64)))}


# --- conv2d -----------------------------------------------------------------------------------
def conv2d(x, w, bias, stride, pad):  # pad = (top, bottom, left, right)
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + pad[0] + pad[1], wd + pad[2] + pad[3]))
    xp[:, :, pad[0]:pad[0] + h, pad[2]:pad[2] + wd] = x
    oh = (xp.shape[2] - kh) // stride + 1
    ow = (xp.shape[3] - kw) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    if bias is not None:
        y += bias.astype(np.float64)[None, :, None, None]
    return y


conv_cases = [
    ("conv3x3", (1, 3, 9, 7), (5, 3, 3, 3), True, 1, (1, 1, 1, 1)),
    ("conv3x3_stride2_asym", (2, 4, 8, 10), (6, 4, 3, 3), True, 2, (0, 1, 0, 1)),
    ("conv3x3_stride2_sym_odd", (1, 2, 7, 9), (3, 2, 3, 3), False, 2, (1, 1, 1, 1)),
    ("conv1x1", (2, 8, 5, 6), (4, 8, 1, 1), True, 1, (0, 0, 0, 0)),
    ("conv1x1_stride2", (1, 3, 6, 5), (2, 3, 1, 1), True, 2, (0, 0, 0, 0)),
]
for name, xs, ws, has_bias, stride, pad in conv_cases:
    x = rand(*xs)
    w = rand(*ws, scale=0.3)
    bias = rand(ws[0]) if has_bias else None
    c = {"x": enc(x), "w": enc(w), "stride": stride, "pad": list(pad), "y": ref(conv2d(x, w, bias, stride, pad))}
    if has_bias:
        c["bias"] = enc(bias)
    cases[name] = c

x = rand(2, 3, 4, 5)
cases["upsample"] = {"x": enc(x), "y": ref(x.repeat(2, axis=2).repeat(2, axis=3))}


# --- attention --------------------------------------------------------------------------------
def attention(q, k, v, scale=None, causal=False, mask=None):
    # q [B, Sq, Hq, D], k [B, Sk, Hkv, D], v [B, Sk, Hkv, Dv]; mask [B, Sk] (1 = attend)
    q, k, v = (t.astype(np.float64) for t in (q, k, v))
    b, sq, hq, d = q.shape
    sk, hkv = k.shape[1], k.shape[2]
    group = hq // hkv
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    out = np.zeros((b, sq, hq, v.shape[3]))
    for bi in range(b):
        for h in range(hq):
            sc = q[bi, :, h, :] @ k[bi, :, h // group, :].T * scale
            allowed = np.ones((sq, sk), dtype=bool)
            if causal:
                allowed &= np.tril(np.ones((sq, sk), dtype=bool))
            if mask is not None:
                allowed &= mask[bi][None, :].astype(bool)
            sc = np.where(allowed, sc, -np.inf)
            for r in range(sq):
                if not allowed[r].any():
                    continue  # defined as zeros
                e = np.exp(sc[r] - sc[r].max())
                out[bi, r, h, :] = (e / e.sum()) @ v[bi, :, h // group, :]
    return out


q = rand(2, 300, 2, 8)
k = rand(2, 300, 1, 8)
v = rand(2, 300, 1, 8)
mask = np.ones((2, 300), dtype=np.uint8)
mask[0, [3, 77, 150, 299]] = 0
mask[1, 200:] = 0
cases["attention"] = {"q": enc(q), "k": enc(k), "v": enc(v), "mask": enc(mask),
                      "y": ref(attention(q, k, v)),
                      "y_causal": ref(attention(q, k, v, causal=True)),
                      "y_mask": ref(attention(q, k, v, mask=mask)),
                      "y_causal_mask": ref(attention(q, k, v, causal=True, mask=mask))}
q = rand(1, 130, 1, 8)
k = rand(1, 17, 1, 8)
v = rand(1, 17, 1, 12)
mask = np.zeros((1, 17), dtype=np.uint8)
cases["attention_cross"] = {"q": enc(q), "k": enc(k), "v": enc(v), "scale": 0.3,
                            "y": ref(attention(q, k, v, scale=0.3)),
                            "mask_none": enc(mask), "y_all_masked": ref(attention(q, k, v, scale=0.3, mask=mask))}


# --- rope -------------------------------------------------------------------------------------
def rope_tables(ids, axes_dims, theta, precision):
    cos_parts, sin_parts = [], []
    for a, dim in enumerate(axes_dims):
        freqs = 1.0 / (theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
        angle = np.outer(np.asarray([p[a] for p in ids], dtype=np.float64), freqs)
        if precision == "float64":
            cos_parts.append(np.cos(angle))
            sin_parts.append(np.sin(angle))
        else:  # angle rounded to float32; cos/sin of that float32 value (evaluated exactly)
            a32 = angle.astype(np.float32).astype(np.float64)
            cos_parts.append(np.cos(a32))
            sin_parts.append(np.sin(a32))
    return np.concatenate(cos_parts, axis=1), np.concatenate(sin_parts, axis=1)


ids = [[0, 0, 0]] + [[1 + k, 0, 0] for k in range(4)] + [[5, h, w] for h in range(3) for w in range(4)]
c64, s64 = rope_tables(ids, [8, 12, 12], 256.0, "float64")
c32, s32 = rope_tables(ids, [8, 12, 12], 256.0, "float32Angle")
x = rand(2, len(ids), 3, 32)
x64 = x.astype(np.float64)
y = x64.copy()
y[..., 0::2] = x64[..., 0::2] * c64[None, :, None, :] - x64[..., 1::2] * s64[None, :, None, :]
y[..., 1::2] = x64[..., 1::2] * c64[None, :, None, :] + x64[..., 0::2] * s64[None, :, None, :]
cases["rope_interleaved"] = {"ids": ids, "axes": [8, 12, 12], "theta": 256.0,
                             "cos64": ref(c64), "sin64": ref(s64), "cos32": ref(c32), "sin32": ref(s32),
                             "x": enc(x), "y": ref(y)}
ids4 = [[0, 0, 0, k] for k in range(3)] + [[0, h, w, 0] for h in range(2) for w in range(3)]
c4, s4 = rope_tables(ids4, [8, 8, 8, 8], 2000.0, "float64")
cases["rope_flux_table"] = {"ids": ids4, "axes": [8, 8, 8, 8], "theta": 2000.0, "cos": ref(c4), "sin": ref(s4)}

positions = list(range(41))
hd = 16
inv = (1.0 / (np.float32(1e6) ** (np.arange(0, hd, 2).astype(np.float32) / np.float32(hd)))).astype(np.float32)
ang = np.outer(np.asarray(positions, dtype=np.float32), inv).astype(np.float32).astype(np.float64)
cq, sq_ = np.cos(ang), np.sin(ang)
x = rand(1, len(positions), 2, hd)
x64 = x.astype(np.float64)
h2 = hd // 2
y = x64.copy()
y[..., :h2] = x64[..., :h2] * cq[None, :, None, :] - x64[..., h2:] * sq_[None, :, None, :]
y[..., h2:] = x64[..., h2:] * cq[None, :, None, :] + x64[..., :h2] * sq_[None, :, None, :]
cases["rope_qwen"] = {"positions": positions, "head_dim": hd, "theta": 1e6, "cos": ref(cq), "sin": ref(sq_),
                      "x": enc(x), "y": ref(y)}

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(cases, f, sort_keys=True, separators=(",", ":"))
    f.write("\n")
print("wrote", os.path.relpath(OUT, ROOT), os.path.getsize(OUT), "bytes")
