// One source for the element-wise kernels, compiled once per instruction set.
//
// The including file defines:
//   TK_W     lanes per vector (1 = scalar, 8 = AVX2, 16 = AVX-512)
//   TK_SFX   the suffix of the exported function names (scalar, avx2, avx512)
//   TK_ATTR  a function attribute list (e.g. __attribute__((target("avx2,fma"))) ) or nothing
//
// Everything is written with clang/GCC vector extensions, so the three builds compute the same
// formulas lane by lane; they differ only in vector width, in summation order of reductions
// and in fused multiply-add contraction inside the polynomials. No fast-math: NaN and inf
// behave as documented in CTensorKernels.h.
#include <math.h>
#include <stdint.h>
#include <string.h>

#define TK_CAT2(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT2(a, b)
#define TK_FN(name) TK_CAT(name, TK_SFX)
#define TK_INL static inline __attribute__((always_inline)) TK_ATTR

typedef float vf __attribute__((vector_size(TK_W * 4), aligned(4)));
typedef int32_t vi __attribute__((vector_size(TK_W * 4), aligned(4)));
typedef uint32_t vu __attribute__((vector_size(TK_W * 4), aligned(4)));
typedef uint16_t vh __attribute__((vector_size(TK_W * 2), aligned(2)));

TK_INL vf ld(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
TK_INL void st(float *p, vf v) { memcpy(p, &v, sizeof v); }
TK_INL vf splat(float s) { vf v = {0}; return v + s; }
TK_INL vi splati(int32_t s) { vi v = {0}; return v + s; }
TK_INL vu splatu(uint32_t s) { vu v = {0}; return v + s; }
TK_INL vf sel(vi m, vf a, vf b) { return (vf)((m & (vi)a) | (~m & (vi)b)); }
TK_INL vu selu(vi m, vu a, vu b) { return (a & (vu)m) | (b & ~(vu)m); }
TK_INL vf vmax(vf a, vf b) { return sel(a > b, a, b); }
TK_INL float hsum(vf v) { float s = 0; for (int i = 0; i < TK_W; i++) s += v[i]; return s; }
TK_INL float hmax(vf v) { float s = v[0]; for (int i = 1; i < TK_W; i++) s = v[i] > s ? v[i] : s; return s; }

// Cephes-style exp: |error| ~ 1 ulp on [-87, 88]; exp(-inf) = 0, exp(+inf) = inf, NaN -> NaN.
TK_INL vf vexp(vf x) {
    const vf hi = splat(88.3762626647949f), lo = splat(-88.3762626647949f);
    vf xc = sel(x > hi, hi, x);
    xc = sel(xc < lo, lo, xc);
    vf fx = xc * 1.44269504088896341f + 0.5f;
    vi ti = __builtin_convertvector(fx, vi);
    vf tf = __builtin_convertvector(ti, vf);
    tf = sel(tf > fx, tf - 1.0f, tf);  // floor
    vf r = xc - tf * 0.693359375f;
    r = r - tf * -2.12194440e-4f;
    vf z = r * r;
    vf y = splat(1.9875691500E-4f);
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r + 1.0f;
    vi n = __builtin_convertvector(tf, vi);
    vf pow2n = (vf)((n + 127) << 23);
    vf res = y * pow2n;
    res = sel(x > splat(88.72283935546875f), splat(INFINITY), res);
    res = sel(x != x, x, res);
    return res;
}

TK_INL vf vsilu(vf x) { return x / (1.0f + vexp(-x)); }

// tanh: odd polynomial for |x| < 0.625 (Cephes tanhf), 1 - 2/(exp(2|x|)+1) otherwise; computed on
// |x| and given x's sign (so tanh(-0) = -0).
TK_INL vf vtanh(vf x) {
    vu signbit = (vu)x & 0x80000000u;
    vf ax = (vf)((vu)x & 0x7fffffffu);
    vf z = ax * ax;
    vf p = splat(-5.70498872745E-3f);
    p = p * z + 2.06390887954E-2f;
    p = p * z - 5.37397155531E-2f;
    p = p * z + 1.33314422036E-1f;
    p = p * z - 3.33332819422E-1f;
    vf small = p * z * ax + ax;
    vf e = vexp(ax + ax);
    vf big = 1.0f - 2.0f / (e + 1.0f);
    vf r = sel(ax < 0.625f, small, big);
    r = (vf)((vu)r | signbit);
    return sel(x != x, x, r);
}

// Applies `body` to full vectors, then to the tail through a zero-padded temporary.
#define TK_MAP1(x, y, n, body)                                   \
    do {                                                         \
        size_t i_ = 0;                                           \
        for (; i_ + TK_W <= (n); i_ += TK_W) {                   \
            vf v = ld((x) + i_);                                 \
            st((y) + i_, (body));                                \
        }                                                        \
        if (i_ < (n)) {                                          \
            float tx_[TK_W] = {0}, ty_[TK_W];                    \
            memcpy(tx_, (x) + i_, ((n) - i_) * sizeof(float));   \
            vf v = ld(tx_);                                      \
            st(ty_, (body));                                     \
            memcpy((y) + i_, ty_, ((n) - i_) * sizeof(float));   \
        }                                                        \
    } while (0)

#define TK_MAP2(a, b, y, n, body)                                \
    do {                                                         \
        size_t i_ = 0;                                           \
        for (; i_ + TK_W <= (n); i_ += TK_W) {                   \
            vf va = ld((a) + i_), vb = ld((b) + i_);             \
            st((y) + i_, (body));                                \
        }                                                        \
        if (i_ < (n)) {                                          \
            float ta_[TK_W] = {0}, tb_[TK_W] = {0}, ty_[TK_W];   \
            memcpy(ta_, (a) + i_, ((n) - i_) * sizeof(float));   \
            memcpy(tb_, (b) + i_, ((n) - i_) * sizeof(float));   \
            vf va = ld(ta_), vb = ld(tb_);                       \
            st(ty_, (body));                                     \
            memcpy((y) + i_, ty_, ((n) - i_) * sizeof(float));   \
        }                                                        \
    } while (0)

TK_ATTR void TK_FN(tk_add)(const float *x, const float *b, float *y, size_t n) {
    TK_MAP2(x, b, y, n, va + vb);
}

TK_ATTR void TK_FN(tk_mul)(const float *x, const float *b, float *y, size_t n) {
    TK_MAP2(x, b, y, n, va * vb);
}

// Two roundings, as PyTorch's `x * s + t`: no fused multiply-add (clang pragma; GCC, used only by
// the plain-C check harness, by function attribute).
#if defined(__GNUC__) && !defined(__clang__)
#define TK_NOCONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define TK_NOCONTRACT
#endif
#pragma clang fp contract(off)
TK_NOCONTRACT TK_ATTR void TK_FN(tk_scale_shift)(const float *x, float s, float t, float *y, size_t n) {
    TK_MAP1(x, y, n, v * s + t);
}

TK_NOCONTRACT TK_ATTR void TK_FN(tk_axpy_nofma)(const float *x, float s, const float *d, float *y, size_t n) {
    TK_MAP2(x, d, y, n, va + vb * s);
}
#pragma clang fp contract(on)

TK_ATTR void TK_FN(tk_exp)(const float *x, float *y, size_t n) { TK_MAP1(x, y, n, vexp(v)); }

TK_ATTR void TK_FN(tk_silu)(const float *x, float *y, size_t n) { TK_MAP1(x, y, n, vsilu(v)); }

TK_ATTR void TK_FN(tk_silu_mul)(const float *a, const float *b, float *y, size_t n) {
    TK_MAP2(a, b, y, n, vsilu(va) * vb);
}

TK_ATTR void TK_FN(tk_tanh)(const float *x, float *y, size_t n) { TK_MAP1(x, y, n, vtanh(v)); }

// Row reductions ------------------------------------------------------------------------------

TK_INL float row_max(const float *x, size_t n) {
    vf m = splat(-INFINITY);
    size_t i = 0;
    for (; i + TK_W <= n; i += TK_W) m = vmax(m, ld(x + i));
    float r = hmax(m);
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

TK_INL float row_sum(const float *x, size_t n) {
    vf s = splat(0.0f);
    size_t i = 0;
    for (; i + TK_W <= n; i += TK_W) s += ld(x + i);
    float r = hsum(s);
    for (; i < n; i++) r += x[i];
    return r;
}

TK_INL float row_sumsq(const float *x, size_t n) {
    vf s = splat(0.0f);
    size_t i = 0;
    for (; i + TK_W <= n; i += TK_W) { vf v = ld(x + i); s += v * v; }
    float r = hsum(s);
    for (; i < n; i++) r += x[i] * x[i];
    return r;
}

TK_INL float row_sumsq_centered(const float *x, size_t n, float mean) {
    vf s = splat(0.0f);
    size_t i = 0;
    for (; i + TK_W <= n; i += TK_W) { vf v = ld(x + i) - mean; s += v * v; }
    float r = hsum(s);
    for (; i < n; i++) { float d = x[i] - mean; r += d * d; }
    return r;
}

// y = exp(x - m), returns the sum of y.
TK_INL float row_exp_sub(const float *x, float *y, size_t n, float m) {
    vf s = splat(0.0f);
    size_t i = 0;
    for (; i + TK_W <= n; i += TK_W) { vf e = vexp(ld(x + i) - m); st(y + i, e); s += e; }
    float r = hsum(s);
    if (i < n) {
        float t[TK_W], o[TK_W];
        for (int k = 0; k < TK_W; k++) t[k] = -INFINITY;
        memcpy(t, x + i, (n - i) * sizeof(float));
        st(o, vexp(ld(t) - m));
        for (size_t k = 0; k < n - i; k++) { y[i + k] = o[k]; r += o[k]; }
    }
    return r;
}

TK_ATTR void TK_FN(tk_softmax_rows)(const float *x, float *y, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = row_max(xr, cols);
        if (m == -INFINITY) {  // every entry -inf: no defined softmax; return zeros, never NaN
            memset(yr, 0, cols * sizeof(float));
            continue;
        }
        float s = row_exp_sub(xr, yr, cols, m);
        float inv = 1.0f / s;
        TK_MAP1(yr, yr, cols, v * inv);
    }
}

TK_ATTR void TK_FN(tk_rmsnorm_rows)(const float *x, const float *w, float *y, size_t rows,
                                    size_t cols, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float ms = row_sumsq(xr, cols) / (float)cols;
        float inv = 1.0f / sqrtf(ms + eps);
        if (w) {
            TK_MAP2(xr, w, yr, cols, (va * inv) * vb);
        } else {
            TK_MAP1(xr, yr, cols, v * inv);
        }
    }
}

TK_ATTR void TK_FN(tk_layernorm_rows)(const float *x, const float *w, const float *b, float *y,
                                      size_t rows, size_t cols, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float mean = row_sum(xr, cols) / (float)cols;
        float var = row_sumsq_centered(xr, cols, mean) / (float)cols;
        float rstd = 1.0f / sqrtf(var + eps);
        TK_MAP1(xr, yr, cols, (v - mean) * rstd);
        if (w) TK_MAP2(yr, w, yr, cols, va * vb);
        if (b) TK_MAP2(yr, b, yr, cols, va + vb);
    }
}

TK_ATTR void TK_FN(tk_groupnorm)(const float *x, const float *gamma, const float *beta, float *y,
                                 size_t channels, size_t hw, size_t groups, float eps, int silu) {
    size_t cpg = channels / groups;
    for (size_t g = 0; g < groups; g++) {
        const float *xg = x + g * cpg * hw;
        float *yg = y + g * cpg * hw;
        size_t n = cpg * hw;
        float mean = row_sum(xg, n) / (float)n;
        float var = row_sumsq_centered(xg, n, mean) / (float)n;
        float rstd = 1.0f / sqrtf(var + eps);
        for (size_t c = 0; c < cpg; c++) {
            size_t ch = g * cpg + c;
            float ga = gamma ? gamma[ch] : 1.0f, be = beta ? beta[ch] : 0.0f;
            float sc = rstd * ga;
            float sh = be - mean * sc;
            const float *xc = xg + c * hw;
            float *yc = yg + c * hw;
            if (silu) TK_MAP1(xc, yc, hw, vsilu(v * sc + sh));
            else TK_MAP1(xc, yc, hw, v * sc + sh);
        }
    }
}

TK_ATTR void TK_FN(tk_online_softmax_tile)(float *s, size_t rows, size_t cols, size_t lds,
                                           float *m, float *l, float *alpha) {
    for (size_t r = 0; r < rows; r++) {
        float *sr = s + r * lds;
        float mt = row_max(sr, cols);
        float mo = m[r];
        float mn = mt > mo ? mt : mo;
        if (mn == -INFINITY) {  // nothing attended yet in this row
            memset(sr, 0, cols * sizeof(float));
            alpha[r] = 1.0f;
            continue;
        }
        float a = mo == -INFINITY ? 0.0f : expf(mo - mn);
        float sum = row_exp_sub(sr, sr, cols, mn);
        alpha[r] = a;
        l[r] = l[r] * a + sum;
        m[r] = mn;
    }
}

// Conversions ---------------------------------------------------------------------------------

TK_INL vu ldh(const uint16_t *p) { vh h; memcpy(&h, p, sizeof h); return __builtin_convertvector(h, vu); }
TK_INL void sth(uint16_t *p, vu v) { vh h = __builtin_convertvector(v, vh); memcpy(p, &h, sizeof h); }

TK_INL vf bf16_to_f32_v(vu h) { return (vf)(h << 16); }

TK_INL vu f32_to_bf16_v(vf x) {
    vu u = (vu)x;
    vi isnan = (vi)((u & 0x7fffffffu) > 0x7f800000u);
    vu rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    vu quiet = (u >> 16) | 0x40u;
    return selu(isnan, quiet, rounded);
}

TK_INL vf f16_to_f32_v(vu h) {
    vu sign = (h & 0x8000u) << 16;
    vu e = (h >> 10) & 0x1fu;
    vu mant = h & 0x3ffu;
    vu normal = ((e + 112u) << 23) | (mant << 13);
    vu infnan = splatu(0x7f800000u) | (mant << 13);
    vf sub = __builtin_convertvector(mant, vf) * 5.9604644775390625e-8f;  // mant * 2^-24, exact
    vu r = selu((vi)(e == 0u), (vu)sub, selu((vi)(e == 31u), infnan, normal));
    return (vf)(r | sign);
}

TK_INL vu f32_to_f16_v(vf x) {
    vu u = (vu)x;
    vu sign = (u >> 16) & 0x8000u;
    vu a = u & 0x7fffffffu;
    // inf / NaN
    vu nanbits = splatu(0x7c00u) | selu((vi)(a > 0x7f800000u), splatu(0x200u) | ((a >> 13) & 0x3ffu), splatu(0));
    // overflow: |x| >= 65520 rounds to inf
    vu inf = splatu(0x7c00u);
    // subnormal (|x| < 2^-14): let the FPU round by adding 0.5 (2^-1), then read the low bits
    const uint32_t magic = 126u << 23;
    vf fs = (vf)a + (vf)splatu(magic);
    vu sub = (vu)fs - magic;
    // normal: rebias and round to nearest even
    vu odd = (a >> 13) & 1u;
    vu nrm = (a + ((uint32_t)(15 - 127) << 23) + 0xfffu + odd) >> 13;
    vu r = selu((vi)(a < 0x38800000u), sub, nrm);
    r = selu((vi)(a >= 0x477ff000u), inf, r);
    r = selu((vi)(a >= 0x7f800000u), nanbits, r);
    return r | sign;
}

#define TK_CONV(T_IN, T_OUT, LOAD, STORE, F)                              \
    do {                                                                  \
        size_t i_ = 0;                                                    \
        for (; i_ + TK_W <= n; i_ += TK_W) STORE(y + i_, F(LOAD(x + i_))); \
        if (i_ < n) {                                                     \
            T_IN tx_[TK_W] = {0};                                         \
            T_OUT ty_[TK_W];                                              \
            memcpy(tx_, x + i_, (n - i_) * sizeof(T_IN));                 \
            STORE(ty_, F(LOAD(tx_)));                                     \
            memcpy(y + i_, ty_, (n - i_) * sizeof(T_OUT));                \
        }                                                                 \
    } while (0)

TK_ATTR void TK_FN(tk_bf16_to_f32)(const uint16_t *x, float *y, size_t n) {
    TK_CONV(uint16_t, float, ldh, st, bf16_to_f32_v);
}
TK_ATTR void TK_FN(tk_f32_to_bf16)(const float *x, uint16_t *y, size_t n) {
    TK_CONV(float, uint16_t, ld, sth, f32_to_bf16_v);
}
TK_ATTR void TK_FN(tk_f16_to_f32)(const uint16_t *x, float *y, size_t n) {
    TK_CONV(uint16_t, float, ldh, st, f16_to_f32_v);
}
TK_ATTR void TK_FN(tk_f32_to_f16)(const float *x, uint16_t *y, size_t n) {
    TK_CONV(float, uint16_t, ld, sth, f32_to_f16_v);
}
