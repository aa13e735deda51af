// MLX affine group quantization (w ≈ scale·q + bias per group of `group` values along K, codes
// q in [0, 2^bits - 1] packed as a little-endian bit stream into uint32 words) and the integer
// GEMM of quantized weights with activations quantized per row and group to symmetric int8.
//
// y[r, c] = Σ_g Σ_{k∈g} x[r,k]·w[c,k]
//         ≈ Σ_g sa[r,g]·( sw[c,g]·Σ_k qa[r,k]·q[c,k] + bw[c,g]·Σ_k qa[r,k] )
// with x ≈ sa·qa (qa in [-127, 127]); the inner sums are exact 32-bit integer dot products
// (AVX512-VNNI vpdpbusd on u8 codes × s8 activations; AVX2 vpmaddwd on 16-bit values, so no
// 16-bit saturation; or plain C), rescaled to float once per group.
#include "CTensorKernels.h"
#include <math.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Quantization (MLX's algorithm as its CPU backend computes it: float32 arithmetic, ties to even)

void tk_affine_quantize_row(const float *w, size_t k, int bits, size_t group, uint32_t *packed, float *scales,
                            float *biases) {
    const float n_bins = (float)((1u << bits) - 1);
    const size_t words = k * (size_t)bits / 32;
    memset(packed, 0, words * 4);
    for (size_t g = 0; g * group < k; g++) {
        const float *v = w + g * group;
        float lo = v[0], hi = v[0];
        for (size_t i = 1; i < group; i++) { lo = v[i] < lo ? v[i] : lo; hi = v[i] > hi ? v[i] : hi; }
        float scale = (hi - lo) / n_bins;
        if (scale < 1e-7f) scale = 1e-7f;
        const int low_edge = fabsf(lo) > fabsf(hi);
        if (!low_edge) scale = -scale;
        const float edge = low_edge ? lo : hi;
        const float q0 = nearbyintf(edge / scale);
        float bias = 0;
        if (q0 != 0) { scale = edge / q0; bias = edge; }
        scales[g] = scale;
        biases[g] = bias;
        for (size_t i = 0; i < group; i++) {
            float q = nearbyintf((v[i] - bias) / scale);
            q = q < 0 ? 0 : (q > n_bins ? n_bins : q);
            const uint32_t code = (uint32_t)q;
            const size_t bit = (g * group + i) * (size_t)bits;
            packed[bit / 32] |= code << (bit % 32);
            if (bit % 32 + (size_t)bits > 32) packed[bit / 32 + 1] |= code >> (32 - bit % 32);
        }
    }
}

void tk_affine_unpack_codes(const uint32_t *packed, size_t first, size_t count, int bits, uint8_t *codes) {
    const uint32_t mask = (1u << bits) - 1;
    if (bits == 8) {
        memcpy(codes, (const uint8_t *)packed + first, count);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const size_t bit = (first + i) * (size_t)bits;
        uint64_t pair = packed[bit / 32];
        if (bit % 32 + (size_t)bits > 32) pair |= (uint64_t)packed[bit / 32 + 1] << 32;
        codes[i] = (uint8_t)((pair >> (bit % 32)) & mask);
    }
}

// ---------------------------------------------------------------------------------------------
// Activations: per row and group, s = max|x| / 127, q = round(x / s) (half away from zero).

void tk_q8_quantize_rows(const float *x, size_t ldx, size_t rows, size_t k, size_t group, int8_t *q, float *scales,
                         int32_t *sums) {
    const size_t groups = k / group;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        for (size_t g = 0; g < groups; g++) {
            const float *v = xr + g * group;
            float amax = 0;
            for (size_t i = 0; i < group; i++) { float a = fabsf(v[i]); amax = a > amax ? a : amax; }
            const float s = amax / 127.0f;
            const float inv = amax > 0 ? 127.0f / amax : 0.0f;
            int32_t sum = 0;
            int8_t *dst = q + r * k + g * group;
            for (size_t i = 0; i < group; i++) {
                float t = roundf(v[i] * inv);
                t = t > 127 ? 127 : (t < -127 ? -127 : t);
                dst[i] = (int8_t)t;
                sum += (int32_t)t;
            }
            scales[r * groups + g] = s;
            sums[r * groups + g] = sum;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Weight tiles: 16 columns; codes as u8 quads [k/4][16][4] (paths scalar, AVX512-VNNI) or 16-bit
// pairs [k/2][16][2] (AVX2); scales and biases as float [groups][16]; zero past n.

size_t tk_q8_tile_code_bytes(tk_q8_path path, size_t k) { return path == TK_Q8_AVX2 ? k * 16 * 2 : k * 16; }

void tk_q8_pack_tile(tk_q8_path path, const uint32_t *packed, size_t words_per_row, int bits, const void *scales,
                     const void *biases, int scale_dtype, size_t n0, size_t n, size_t k, size_t group, void *codes,
                     float *tile_scales, float *tile_biases) {
    const size_t groups = k / group;
    uint8_t row[16384];
    for (size_t j = 0; j < 16; j++) {
        const size_t col = n0 + j;
        for (size_t k0 = 0; k0 < k; k0 += sizeof row) {
            const size_t cnt = k - k0 < sizeof row ? k - k0 : sizeof row;
            if (col < n) tk_affine_unpack_codes(packed + col * words_per_row, k0, cnt, bits, row);
            else memset(row, 0, cnt);
            for (size_t i = 0; i < cnt; i++) {
                const size_t kk = k0 + i;
                if (path == TK_Q8_AVX2) ((int16_t *)codes)[(kk / 2) * 32 + j * 2 + (kk & 1)] = row[i];
                else ((uint8_t *)codes)[(kk / 4) * 64 + j * 4 + (kk & 3)] = row[i];
            }
        }
        for (size_t g = 0; g < groups; g++) {
            float s = 0, b = 0;
            if (col < n) {
                const size_t idx = col * groups + g;
                if (scale_dtype == 0) { s = ((const float *)scales)[idx]; b = ((const float *)biases)[idx]; }
                else if (scale_dtype == 1) {
                    uint32_t us = (uint32_t)((const uint16_t *)scales)[idx] << 16, ub = (uint32_t)((const uint16_t *)biases)[idx] << 16;
                    memcpy(&s, &us, 4); memcpy(&b, &ub, 4);
                } else {
                    s = (float)((const _Float16 *)scales)[idx];
                    b = (float)((const _Float16 *)biases)[idx];
                }
            }
            tile_scales[g * 16 + j] = s;
            tile_biases[g * 16 + j] = b;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels: rows of qa (stride k) times one or two 16-column tiles.

static void kernel_scalar(const int8_t *qa, const float *sa, const int32_t *suma, size_t rows, size_t k, size_t group,
                          const uint8_t *codes, const float *sw, const float *bw, float *c, size_t ldc, size_t cols,
                          int accumulate) {
    const size_t groups = k / group;
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < cols; j++) {
            float acc = accumulate ? c[r * ldc + j] : 0.0f;
            for (size_t g = 0; g < groups; g++) {
                int32_t dot = 0;
                for (size_t kk = g * group; kk < (g + 1) * group; kk++)
                    dot += (int32_t)qa[r * k + kk] * (int32_t)codes[(kk / 4) * 64 + j * 4 + (kk & 3)];
                const float s = sa[r * groups + g];
                acc += s * sw[g * 16 + j] * (float)dot + s * (float)suma[r * groups + g] * bw[g * 16 + j];
            }
            c[r * ldc + j] = acc;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TK_VNNI_ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define TK_AVX2_ATTR __attribute__((target("avx2,fma")))

// 4 rows x 16 columns per call (rows <= 4), AVX512-VNNI.
TK_VNNI_ATTR
static void kernel_vnni(const int8_t *qa, const float *sa, const int32_t *suma, size_t rows, size_t k, size_t group,
                        const uint8_t *codes, const float *sw, const float *bw, float *c, size_t ldc, size_t cols,
                        int accumulate) {
    const size_t groups = k / group, quads = group / 4;
    __m512 out[4];
    for (int r = 0; r < 4; r++) out[r] = _mm512_setzero_ps();
    for (size_t g = 0; g < groups; g++) {
        __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
        const uint8_t *wg = codes + g * quads * 64;
        const int8_t *ag = qa + g * group;
        for (size_t p = 0; p < quads; p++) {
            const __m512i w = _mm512_loadu_si512((const void *)(wg + p * 64));
            for (size_t r = 0; r < 4; r++) {
                if (r >= rows) break;
                int32_t a4;
                memcpy(&a4, ag + r * k + p * 4, 4);
                acc[r] = _mm512_dpbusd_epi32(acc[r], w, _mm512_set1_epi32(a4));
            }
        }
        const __m512 vs = _mm512_loadu_ps(sw + g * 16), vb = _mm512_loadu_ps(bw + g * 16);
        for (size_t r = 0; r < rows; r++) {
            const float s = sa[r * groups + g];
            out[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r]), _mm512_mul_ps(_mm512_set1_ps(s), vs), out[r]);
            out[r] = _mm512_fmadd_ps(_mm512_set1_ps(s * (float)suma[r * groups + g]), vb, out[r]);
        }
    }
    const __mmask16 m = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    for (size_t r = 0; r < rows; r++) {
        __m512 v = out[r];
        if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c + r * ldc));
        _mm512_mask_storeu_ps(c + r * ldc, m, v);
    }
}

// 4 rows x 16 columns per call (rows <= 4), AVX2: 16-bit codes, pairs of activations, vpmaddwd.
TK_AVX2_ATTR
static void kernel_avx2(const int8_t *qa, const float *sa, const int32_t *suma, size_t rows, size_t k, size_t group,
                        const int16_t *codes, const float *sw, const float *bw, float *c, size_t ldc, size_t cols,
                        int accumulate) {
    const size_t groups = k / group, pairs = group / 2;
    __m256 out[4][2];
    for (int r = 0; r < 4; r++) { out[r][0] = _mm256_setzero_ps(); out[r][1] = _mm256_setzero_ps(); }
    for (size_t g = 0; g < groups; g++) {
        __m256i acc[4][2];
        for (int r = 0; r < 4; r++) { acc[r][0] = _mm256_setzero_si256(); acc[r][1] = _mm256_setzero_si256(); }
        const int16_t *wg = codes + g * pairs * 32;
        const int8_t *ag = qa + g * group;
        for (size_t p = 0; p < pairs; p++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wg + p * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wg + p * 32 + 16));
            for (size_t r = 0; r < 4; r++) {
                if (r >= rows) break;
                const int8_t *a = ag + r * k + p * 2;
                const int32_t pair = (int32_t)(uint16_t)(int16_t)a[0] | ((int32_t)(int16_t)a[1] << 16);
                const __m256i va = _mm256_set1_epi32(pair);
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(w0, va));
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(w1, va));
            }
        }
        for (size_t h = 0; h < 2; h++) {
            const __m256 vs = _mm256_loadu_ps(sw + g * 16 + h * 8), vb = _mm256_loadu_ps(bw + g * 16 + h * 8);
            for (size_t r = 0; r < rows; r++) {
                const float s = sa[r * groups + g];
                out[r][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][h]), _mm256_mul_ps(_mm256_set1_ps(s), vs), out[r][h]);
                out[r][h] = _mm256_fmadd_ps(_mm256_set1_ps(s * (float)suma[r * groups + g]), vb, out[r][h]);
            }
        }
    }
    for (size_t r = 0; r < rows; r++) {
        float tmp[16];
        _mm256_storeu_ps(tmp, out[r][0]);
        _mm256_storeu_ps(tmp + 8, out[r][1]);
        for (size_t j = 0; j < cols && j < 16; j++) c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0.0f) + tmp[j];
    }
}
#endif

int tk_q8_path_supported(tk_q8_path path) {
    uint32_t f = tk_cpu_features();
    switch (path) {
    case TK_Q8_SCALAR: return 1;
    case TK_Q8_AVX2: return (f & TK_CPU_AVX2) && (f & TK_CPU_FMA);
    case TK_Q8_AVX512VNNI: return (f & TK_CPU_AVX512F) && (f & TK_CPU_AVX512BW) && (f & TK_CPU_AVX512VL) && (f & TK_CPU_AVX512VNNI);
    }
    return 0;
}

void tk_q8_gemm_tiles(tk_q8_path path, const int8_t *qa, const float *sa, const int32_t *suma, size_t m, size_t k,
                      size_t group, const void *codes, const float *sw, const float *bw, size_t tiles, size_t cols,
                      float *c, size_t ldc, int accumulate) {
    // `tiles` packed tiles (16 columns each, `cols` valid in all), all m rows.
    const size_t groups = k / group, code_bytes = tk_q8_tile_code_bytes(path, k);
    for (size_t t = 0; t < tiles; t++) {
        const size_t col0 = t * 16;
        if (col0 >= cols) break;
        const size_t nc = cols - col0 < 16 ? cols - col0 : 16;
        const uint8_t *tc = (const uint8_t *)codes + t * code_bytes;
        const float *ts = sw + t * groups * 16, *tb = bw + t * groups * 16;
        for (size_t r0 = 0; r0 < m; r0 += 4) {
            const size_t rows = m - r0 < 4 ? m - r0 : 4;
            const int8_t *a = qa + r0 * k;
            const float *s = sa + r0 * groups;
            const int32_t *su = suma + r0 * groups;
            float *cc = c + r0 * ldc + col0;
#if defined(__x86_64__)
            if (path == TK_Q8_AVX512VNNI) { kernel_vnni(a, s, su, rows, k, group, tc, ts, tb, cc, ldc, nc, accumulate); continue; }
            if (path == TK_Q8_AVX2) { kernel_avx2(a, s, su, rows, k, group, (const int16_t *)tc, ts, tb, cc, ldc, nc, accumulate); continue; }
#endif
            kernel_scalar(a, s, su, rows, k, group, tc, ts, tb, cc, ldc, nc, accumulate);
        }
    }
}
