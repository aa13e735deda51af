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
    if (bits == 4 && first % 2 == 0 && count % 2 == 0) {
        const uint8_t *src = (const uint8_t *)packed + first / 2;
        for (size_t i = 0; i < count / 2; i++) { codes[2 * i] = src[i] & 15; codes[2 * i + 1] = src[i] >> 4; }
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
// Activations: per row and group, s = max|x| / 127, q = round(x / s) (ties to even).

#if defined(__x86_64__)
#include <immintrin.h>
// The same arithmetic 16 values at a time: |x| max, x·(127/max) rounded to nearest even
// (vcvtps2dq in the default rounding mode), narrowed with saturation (values are within ±127).
__attribute__((target("avx512f,avx512bw")))
static void quantize_rows_avx512(const float *x, size_t ldx, size_t rows, size_t k, size_t group, int8_t *q,
                                 float *scales, int32_t *sums) {
    const size_t groups = k / group;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        for (size_t g = 0; g < groups; g++) {
            const float *v = xr + g * group;
            __m512 m = _mm512_setzero_ps();
            for (size_t i = 0; i < group; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(v + i)));
            const float amax = _mm512_reduce_max_ps(m);
            const __m512 inv = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
            __m512i sum = _mm512_setzero_si512();
            int8_t *dst = q + r * k + g * group;
            for (size_t i = 0; i < group; i += 16) {
                __m512i t = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(v + i), inv));
                t = _mm512_max_epi32(_mm512_min_epi32(t, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127));
                sum = _mm512_add_epi32(sum, t);
                _mm_storeu_si128((__m128i *)(dst + i), _mm512_cvtsepi32_epi8(t));
            }
            scales[r * groups + g] = amax / 127.0f;
            sums[r * groups + g] = _mm512_reduce_add_epi32(sum);
        }
    }
}
#endif

void tk_q8_quantize_rows(tk_q8_path path, const float *x, size_t ldx, size_t rows, size_t k, size_t group, int8_t *q,
                         float *scales, int32_t *sums) {
#if defined(__x86_64__)
    if (path == TK_Q8_AVX512VNNI && group % 16 == 0) {
        quantize_rows_avx512(x, ldx, rows, k, group, q, scales, sums);
        return;
    }
#endif
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
                float t = nearbyintf(v[i] * inv);  // ties to even; |t| <= 127 by construction
                t = t > 127 ? 127 : (t < -127 ? -127 : t);
                const int32_t qi = (int32_t)t;
                dst[i] = (int8_t)qi;
                sum += qi;
            }
            scales[r * groups + g] = s;
            sums[r * groups + g] = sum;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Weight tiles: 16 columns; codes as u8 quads [k/4][16][4] (every path); scales and biases as
// float [groups][16]; zero past n.

void tk_q8_pack_tile(const uint32_t *packed, size_t words_per_row, int bits, const void *scales,
                     const void *biases, int scale_dtype, size_t n0, size_t n, size_t k, size_t group, size_t groups_per_row,
                     void *codes, float *tile_scales, float *tile_biases) {
    const size_t groups = k / group;
    uint8_t row[16384];
    for (size_t j = 0; j < 16; j++) {
        const size_t col = n0 + j;
        for (size_t k0 = 0; k0 < k; k0 += sizeof row) {
            const size_t cnt = k - k0 < sizeof row ? k - k0 : sizeof row;
            if (col < n) tk_affine_unpack_codes(packed + col * words_per_row, k0, cnt, bits, row);
            else memset(row, 0, cnt);
            // k0 and cnt are multiples of 4 (k is a multiple of the group): whole quads.
            for (size_t i = 0; i < cnt; i += 4) {
                uint32_t quad;
                memcpy(&quad, row + i, 4);
                memcpy((uint8_t *)codes + ((k0 + i) / 4) * 64 + j * 4, &quad, 4);
            }
        }
        for (size_t g = 0; g < groups; g++) {
            float s = 0, b = 0;
            if (col < n) {
                const size_t idx = col * groups_per_row + g;
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

// R rows (1..6, a compile-time constant per instance, so the 2R integer and 2R float accumulators
// stay in registers) x 32 columns (two tiles), AVX512-VNNI: per k-quad two weight loads, one
// broadcast per row, two vpdpbusd per row; the group's int32 sums are rescaled once per group.
#define TK_VNNI_KERNEL(R)                                                                                          \
TK_VNNI_ATTR                                                                                                       \
static void kernel_vnni_##R(const int8_t *qa, const float *sa, const int32_t *suma, size_t k, size_t group,        \
                            const uint8_t *c0, const uint8_t *c1, const float *sw0, const float *sw1,              \
                            const float *bw0, const float *bw1, float *c, size_t ldc, size_t cols, int accumulate) { \
    const size_t groups = k / group, quads = group / 4;                                                            \
    __m512 out[R][2];                                                                                              \
    for (int r = 0; r < R; r++) { out[r][0] = _mm512_setzero_ps(); out[r][1] = _mm512_setzero_ps(); }             \
    for (size_t g = 0; g < groups; g++) {                                                                          \
        __m512i acc[R][2];                                                                                         \
        for (int r = 0; r < R; r++) { acc[r][0] = _mm512_setzero_si512(); acc[r][1] = _mm512_setzero_si512(); }   \
        const uint8_t *w0p = c0 + g * quads * 64, *w1p = c1 + g * quads * 64;                                      \
        const int8_t *ag = qa + g * group;                                                                         \
        for (size_t p = 0; p < quads; p++) {                                                                       \
            const __m512i w0 = _mm512_loadu_si512((const void *)(w0p + p * 64));                                   \
            const __m512i w1 = _mm512_loadu_si512((const void *)(w1p + p * 64));                                   \
            for (int r = 0; r < R; r++) {                                                                          \
                int32_t a4;                                                                                        \
                memcpy(&a4, ag + (size_t)r * k + p * 4, 4);                                                        \
                const __m512i va = _mm512_set1_epi32(a4);                                                          \
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], w0, va);                                                \
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], w1, va);                                                \
            }                                                                                                      \
        }                                                                                                          \
        const __m512 vs0 = _mm512_loadu_ps(sw0 + g * 16), vb0 = _mm512_loadu_ps(bw0 + g * 16);                     \
        const __m512 vs1 = _mm512_loadu_ps(sw1 + g * 16), vb1 = _mm512_loadu_ps(bw1 + g * 16);                     \
        for (int r = 0; r < R; r++) {                                                                              \
            const __m512 s = _mm512_set1_ps(sa[r * groups + g]);                                                   \
            const __m512 sb = _mm512_set1_ps(sa[r * groups + g] * (float)suma[r * groups + g]);                   \
            out[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][0]), _mm512_mul_ps(s, vs0), _mm512_fmadd_ps(sb, vb0, out[r][0])); \
            out[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][1]), _mm512_mul_ps(s, vs1), _mm512_fmadd_ps(sb, vb1, out[r][1])); \
        }                                                                                                          \
    }                                                                                                              \
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);                           \
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : (cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1)); \
    for (int r = 0; r < R; r++) {                                                                                  \
        __m512 v0 = out[r][0], v1 = out[r][1];                                                                     \
        if (accumulate) {                                                                                          \
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, c + r * ldc));                                        \
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, c + r * ldc + 16));                                   \
        }                                                                                                          \
        _mm512_mask_storeu_ps(c + r * ldc, m0, v0);                                                                \
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, v1);                                                           \
    }                                                                                                              \
}
TK_VNNI_KERNEL(1)
TK_VNNI_KERNEL(2)
TK_VNNI_KERNEL(3)
TK_VNNI_KERNEL(4)
TK_VNNI_KERNEL(5)
TK_VNNI_KERNEL(6)
#undef TK_VNNI_KERNEL

static void kernel_vnni(const int8_t *qa, const float *sa, const int32_t *suma, size_t rows, size_t k, size_t group,
                        const uint8_t *c0, const uint8_t *c1, const float *sw0, const float *sw1, const float *bw0,
                        const float *bw1, float *c, size_t ldc, size_t cols, int accumulate) {
    switch (rows) {
    case 6: kernel_vnni_6(qa, sa, suma, k, group, c0, c1, sw0, sw1, bw0, bw1, c, ldc, cols, accumulate); break;
    case 5: kernel_vnni_5(qa, sa, suma, k, group, c0, c1, sw0, sw1, bw0, bw1, c, ldc, cols, accumulate); break;
    case 4: kernel_vnni_4(qa, sa, suma, k, group, c0, c1, sw0, sw1, bw0, bw1, c, ldc, cols, accumulate); break;
    case 3: kernel_vnni_3(qa, sa, suma, k, group, c0, c1, sw0, sw1, bw0, bw1, c, ldc, cols, accumulate); break;
    case 2: kernel_vnni_2(qa, sa, suma, k, group, c0, c1, sw0, sw1, bw0, bw1, c, ldc, cols, accumulate); break;
    default: kernel_vnni_1(qa, sa, suma, k, group, c0, c1, sw0, sw1, bw0, bw1, c, ldc, cols, accumulate); break;
    }
}

// R rows (1..4, compile-time per instance: the integer sums stay in registers) x 16 columns, AVX2:
// vpmaddubsw (u8 codes x s8 activations -> pairs in 16 bits) and vpmaddwd with ones (-> 32 bits).
// A pair of products reaches 2·63·127 for codes up to 6 bits, inside int16; 7- and 8-bit codes go
// in as d = c - 128, |d| (at most 128, unsigned) times the activations with d's sign (pairs reach
// 2·128·127), then 128·Σa is added back in 32 bits: never saturates. The float results live in
// memory (16 registers).
#define TK_AVX2_KERNEL(R)                                                                                          \
TK_AVX2_ATTR                                                                                                       \
static void kernel_avx2_##R(const int8_t *qa, const float *sa, const int32_t *suma, size_t k, size_t group,        \
                            const uint8_t *codes, int wide, const float *sw, const float *bw, float *c, size_t ldc, \
                            size_t cols, int accumulate) {                                                         \
    const size_t groups = k / group, quads = group / 4;                                                            \
    const __m256i ones = _mm256_set1_epi16(1), flip = _mm256_set1_epi8((char)0x80);                               \
    float out[R][16] __attribute__((aligned(32)));                                                                 \
    memset(out, 0, sizeof out);                                                                                    \
    for (size_t g = 0; g < groups; g++) {                                                                          \
        __m256i acc[R][2];                                                                                         \
        for (int r = 0; r < R; r++) { acc[r][0] = _mm256_setzero_si256(); acc[r][1] = _mm256_setzero_si256(); }   \
        const uint8_t *wg = codes + g * quads * 64;                                                                \
        const int8_t *ag = qa + g * group;                                                                         \
        if (wide) {                                                                                                \
            /* Codes as signed d = c - 128, their signs moved onto the activations: vpmaddubsw(|d|,     \
               a·sign(d)) with |d| <= 128 unsigned and |a| <= 127: pairs reach 2·128·127 < 2^15; the    \
               128·Σa taken out is added back below. */                                                   \
            for (size_t p = 0; p < quads; p++) {                                                                   \
                const __m256i d0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wg + p * 64)), flip);     \
                const __m256i d1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wg + p * 64 + 32)), flip); \
                const __m256i m0 = _mm256_abs_epi8(d0), m1 = _mm256_abs_epi8(d1);                                  \
                for (int r = 0; r < R; r++) {                                                                      \
                    int32_t a4; memcpy(&a4, ag + (size_t)r * k + p * 4, 4);                                        \
                    const __m256i va = _mm256_set1_epi32(a4);                                                      \
                    acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(m0, _mm256_sign_epi8(va, d0)), ones)); \
                    acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(m1, _mm256_sign_epi8(va, d1)), ones)); \
                }                                                                                                  \
            }                                                                                                      \
            for (int r = 0; r < R; r++) {                                                                          \
                const __m256i back = _mm256_set1_epi32(128 * suma[r * groups + g]);                                \
                acc[r][0] = _mm256_add_epi32(acc[r][0], back);                                                     \
                acc[r][1] = _mm256_add_epi32(acc[r][1], back);                                                     \
            }                                                                                                      \
        } else {                                                                                                   \
            for (size_t p = 0; p < quads; p++) {                                                                   \
                const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wg + p * 64));                             \
                const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wg + p * 64 + 32));                        \
                for (int r = 0; r < R; r++) {                                                                      \
                    int32_t a4; memcpy(&a4, ag + (size_t)r * k + p * 4, 4);                                        \
                    const __m256i va = _mm256_set1_epi32(a4);                                                      \
                    acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(w0, va), ones)); \
                    acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(w1, va), ones)); \
                }                                                                                                  \
            }                                                                                                      \
        }                                                                                                          \
        for (int h = 0; h < 2; h++) {                                                                              \
            const __m256 vs = _mm256_loadu_ps(sw + g * 16 + h * 8), vb = _mm256_loadu_ps(bw + g * 16 + h * 8);     \
            for (int r = 0; r < R; r++) {                                                                          \
                const float s = sa[r * groups + g];                                                                \
                __m256 o = _mm256_load_ps(out[r] + h * 8);                                                         \
                o = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][h]), _mm256_mul_ps(_mm256_set1_ps(s), vs), o);        \
                o = _mm256_fmadd_ps(_mm256_set1_ps(s * (float)suma[r * groups + g]), vb, o);                       \
                _mm256_store_ps(out[r] + h * 8, o);                                                                \
            }                                                                                                      \
        }                                                                                                          \
    }                                                                                                              \
    for (int r = 0; r < R; r++)                                                                                    \
        for (size_t j = 0; j < cols && j < 16; j++) c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0.0f) + out[r][j]; \
}
TK_AVX2_KERNEL(1)
TK_AVX2_KERNEL(2)
TK_AVX2_KERNEL(3)
TK_AVX2_KERNEL(4)
#undef TK_AVX2_KERNEL

static void kernel_avx2(const int8_t *qa, const float *sa, const int32_t *suma, size_t rows, size_t k, size_t group,
                        const uint8_t *codes, int wide, const float *sw, const float *bw, float *c, size_t ldc,
                        size_t cols, int accumulate) {
    switch (rows) {
    case 4: kernel_avx2_4(qa, sa, suma, k, group, codes, wide, sw, bw, c, ldc, cols, accumulate); break;
    case 3: kernel_avx2_3(qa, sa, suma, k, group, codes, wide, sw, bw, c, ldc, cols, accumulate); break;
    case 2: kernel_avx2_2(qa, sa, suma, k, group, codes, wide, sw, bw, c, ldc, cols, accumulate); break;
    default: kernel_avx2_1(qa, sa, suma, k, group, codes, wide, sw, bw, c, ldc, cols, accumulate); break;
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
                      size_t group, int bits, const void *codes, const float *sw, const float *bw, size_t tiles,
                      size_t cols, float *c, size_t ldc, int accumulate) {
    // `tiles` packed tiles (16 columns each; `cols` valid columns in all), all m rows; the
    // AVX512-VNNI kernel takes the tiles in pairs and 6 rows at a time.
    const size_t groups = k / group, code_bytes = k * 16;
    const uint8_t *cb = (const uint8_t *)codes;
    for (size_t t = 0; t < tiles; ) {
        const size_t col0 = t * 16;
        if (col0 >= cols) break;
        const size_t span = (path == TK_Q8_AVX512VNNI && t + 1 < tiles) ? 2 : 1;
        size_t nc = cols - col0;
        if (nc > 16 * span) nc = 16 * span;
        const uint8_t *tc = cb + t * code_bytes;
        const float *ts = sw + t * groups * 16, *tb = bw + t * groups * 16;
        const size_t step = path == TK_Q8_AVX512VNNI ? 6 : 4;
        for (size_t r0 = 0; r0 < m; r0 += step) {
            const size_t rows = m - r0 < step ? m - r0 : step;
            const int8_t *a = qa + r0 * k;
            const float *s = sa + r0 * groups;
            const int32_t *su = suma + r0 * groups;
            float *cc = c + r0 * ldc + col0;
#if defined(__x86_64__)
            if (path == TK_Q8_AVX512VNNI) {
                const uint8_t *tc1 = span == 2 ? tc + code_bytes : tc;
                const float *ts1 = span == 2 ? ts + groups * 16 : ts, *tb1 = span == 2 ? tb + groups * 16 : tb;
                kernel_vnni(a, s, su, rows, k, group, tc, tc1, ts, ts1, tb, tb1, cc, ldc, nc, accumulate);
                continue;
            }
            if (path == TK_Q8_AVX2) { kernel_avx2(a, s, su, rows, k, group, tc, bits > 6, ts, tb, cc, ldc, nc, accumulate); continue; }
#endif
            kernel_scalar(a, s, su, rows, k, group, tc, ts, tb, cc, ldc, nc, accumulate);
        }
        t += span;
    }
}
