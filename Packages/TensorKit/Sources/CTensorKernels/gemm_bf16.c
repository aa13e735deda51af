// bf16 GEMM with fp32 accumulation on AVX512-BF16 (`vdpbf16ps`): C[M, N] (=|+=) A[M, K] · W[N, K]ᵀ.
// A is rounded to bf16 (round to nearest even), W is bf16 (or f32 rounded to bf16); every product
// of two bf16 values is exact in fp32 and the pairs are summed in fp32. Selected at run time only
// when the CPU reports AVX512-BF16 (TK_CPU_AVX512BF16); callers keep an fp32 path otherwise.
#include "CTensorKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "bf16_internal.h"

TK_BF16_ATTR
static void pack_a_avx512(const float *a, size_t lda, size_t rows, size_t k, size_t kp, uint16_t *dst) {
    // 32 values per step with vcvtne2ps2bf16 (round to nearest even, as tk_f32_to_bf16_rne for every
    // normal value, infinity and NaN), the tail masked.
    for (size_t r = 0; r < rows; r++) {
        const float *src = a + r * lda;
        uint16_t *d = dst + r * kp;
        size_t i = 0;
        for (; i + 32 <= k; i += 32) {
            __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
            _mm512_storeu_si512((void *)(d + i), (__m512i)h);
        }
        for (; i < k; i += 16) {
            size_t cnt = k - i < 16 ? k - i : 16;
            __mmask16 m = (__mmask16)((1u << cnt) - 1);
            __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
            _mm256_mask_storeu_epi16((void *)(d + i), m, h);
        }
        for (i = k; i < kp; i++) d[i] = 0;
    }
}

void tk_bf16_pack_a(const float *a, size_t lda, size_t rows, size_t k, size_t kp, uint16_t *dst) {
    if (tk_bf16_gemm_supported()) { pack_a_avx512(a, lda, rows, k, kp, dst); return; }
    for (size_t r = 0; r < rows; r++) {
        const float *src = a + r * lda;
        uint16_t *d = dst + r * kp;
        size_t i = 0;
        for (; i < k; i++) d[i] = tk_f32_to_bf16_rne(src[i]);
        for (; i < kp; i++) d[i] = 0;
    }
}

TK_BF16_ATTR
void tk_bf16_pack_b_kn(const float *b, size_t ldb, size_t n0, size_t n, size_t k, size_t kp, uint16_t *dst) {
    // One 16-column tile of a K x N float32 matrix (row i contiguous along n): element (p, j, e) =
    // bf16(B[2p + e, n0 + j]), zero past n or k. Two rows are read 16 columns at a time, rounded
    // (vcvtneps2bf16: nearest even) and interleaved.
    size_t cols = n > n0 ? (n - n0 < 16 ? n - n0 : 16) : 0;
    __mmask16 m = (__mmask16)((1u << cols) - 1);
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (size_t p = 0; p < kp / 2; p++) {
        __m512 r0 = 2 * p < k ? _mm512_maskz_loadu_ps(m, b + (2 * p) * ldb + n0) : _mm512_setzero_ps();
        __m512 r1 = 2 * p + 1 < k ? _mm512_maskz_loadu_ps(m, b + (2 * p + 1) * ldb + n0) : _mm512_setzero_ps();
        __m256i h0 = (__m256i)_mm512_cvtneps_pbh(r0), h1 = (__m256i)_mm512_cvtneps_pbh(r1);
        __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(h0), h1, 1);
        _mm512_storeu_si512((void *)(dst + p * 32), _mm512_permutexvar_epi16(idx, both));
    }
}

// Transposes a 16 x 16 block of 32-bit values held as 16 rows (r[i] = row i) into columns.
TK_BF16_ATTR
static inline void transpose_16x16_epi32(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // r[4b + q] holds, per 128-bit lane l, rows 4b..4b+3 of column 4l + q.
    for (int b = 0; b < 4; b += 2)
        for (int q = 0; q < 4; q++) {
            t[4 * b + q] = _mm512_shuffle_i32x4(r[4 * b + q], r[4 * b + 4 + q], 0x88);
            t[4 * b + 4 + q] = _mm512_shuffle_i32x4(r[4 * b + q], r[4 * b + 4 + q], 0xdd);
        }
    for (int q = 0; q < 8; q++) {
        r[q] = _mm512_shuffle_i32x4(t[q], t[8 + q], 0x88);
        r[8 + q] = _mm512_shuffle_i32x4(t[q], t[8 + q], 0xdd);
    }
}

TK_BF16_ATTR
static void pack_b_avx512(const void *w, int w_is_f32, size_t ldw, size_t n0, size_t k, size_t p_end, uint16_t *dst) {
    // Full tiles (16 rows of W present): 16 k-pairs of 16 rows at a time, each row's pairs read as
    // 16 32-bit values (bf16 as stored, or 32 floats rounded with vcvtne2ps2bf16), transposed.
    (void)k;
    const uint16_t *wb = (const uint16_t *)w;
    const float *wf = (const float *)w;
    for (size_t p0 = 0; p0 + 16 <= p_end; p0 += 16) {
        __m512i r[16];
        for (int j = 0; j < 16; j++) {
            size_t row = n0 + (size_t)j;
            if (w_is_f32) {
                const float *src = wf + row * ldw + 2 * p0;
                r[j] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + 16), _mm512_loadu_ps(src));
            } else {
                r[j] = _mm512_loadu_si512((const void *)(wb + row * ldw + 2 * p0));
            }
        }
        transpose_16x16_epi32(r);
        for (int q = 0; q < 16; q++) _mm512_storeu_si512((void *)(dst + (p0 + (size_t)q) * 32), r[q]);
    }
}

void tk_bf16_pack_b(const void *w, int w_is_f32, size_t ldw, size_t n0, size_t n, size_t k, size_t kp, uint16_t *dst) {
    // dst: one 16-column tile, [kp/2][16][2]: element (p, j, e) = W[n0 + j, 2p + e] (0 past n or k).
    const uint16_t *wb = (const uint16_t *)w;
    const float *wf = (const float *)w;
    size_t p_vec = 0;
    if (n0 + 16 <= n && tk_bf16_gemm_supported()) {
        p_vec = k / 32 * 16;  // whole pairs inside K, in blocks of 16
        pack_b_avx512(w, w_is_f32, ldw, n0, k, p_vec, dst);
    }
    for (size_t j = 0; j < 16; j++) {
        size_t row = n0 + j;
        for (size_t p = p_vec; p < kp / 2; p++) {
            for (size_t e = 0; e < 2; e++) {
                size_t col = 2 * p + e;
                uint16_t v = 0;
                if (row < n && col < k) v = w_is_f32 ? tk_f32_to_bf16_rne(wf[row * ldw + col]) : wb[row * ldw + col];
                dst[(p * 16 + j) * 2 + e] = v;
            }
        }
    }
}

// 8 rows x 32 columns over `pairs` k-pairs. a: 8 rows of packed A (stride kp, offset to the block);
// b0, b1: two 16-column tiles at the same k offset; c: ldc; `cols` (1..32) valid columns.
TK_BF16_ATTR
static void kernel_8x32(const uint16_t *a, size_t kp, const uint16_t *b0, const uint16_t *b1, size_t pairs,
                        float *c, size_t ldc, size_t rows, size_t cols, int accumulate) {
    __m512 acc[8][2];
    for (int r = 0; r < 8; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (size_t p = 0; p < pairs; p++) {
        __m512bh vb0 = (__m512bh)_mm512_loadu_si512((const void *)(b0 + p * 32));
        __m512bh vb1 = (__m512bh)_mm512_loadu_si512((const void *)(b1 + p * 32));
        for (int r = 0; r < 8; r++) {
            int32_t pair;
            memcpy(&pair, a + r * kp + 2 * p, 4);
            __m512bh va = (__m512bh)_mm512_set1_epi32(pair);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], va, vb0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], va, vb1);
        }
    }
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : (cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1));
    for (size_t r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

// AMX-BF16: a 32 x 32 block of C in four 16 x 16 fp32 tiles (tmm0-3), two A tiles of 16 rows x 32
// k (tmm4-5, stride kp) and two B tiles of 16 k-pairs x 16 columns (tmm6-7): the packed B layout
// [kp/2][16][2] is already the tile layout AMX reads. Needs kp and kb multiples of 32 and 32 rows
// of packed A (the caller pads A with zero rows).
#define TK_AMX_ATTR __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))

typedef struct {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tk_tile_config;

TK_AMX_ATTR
static void amx_configure(void) {
    tk_tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette_id = 1;
    for (int i = 0; i < 8; i++) { cfg.rows[i] = 16; cfg.colsb[i] = 64; }
    _tile_loadconfig(&cfg);
}

TK_AMX_ATTR
static void amx_32x32(const uint16_t *a, size_t kp, const uint16_t *b0, const uint16_t *b1, size_t kb,
                      float *c, size_t ldc, size_t rows, size_t cols, int accumulate) {
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    const size_t sa = kp * 2;
    for (size_t k = 0; k < kb; k += 32) {
        _tile_loadd(4, a + k, sa);
        _tile_loadd(5, a + 16 * kp + k, sa);
        _tile_loadd(6, b0 + k * 16, 64);
        _tile_loadd(7, b1 + k * 16, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    float buf[32 * 32] __attribute__((aligned(64)));
    _tile_stored(0, buf, 128);
    _tile_stored(1, buf + 16, 128);
    _tile_stored(2, buf + 16 * 32, 128);
    _tile_stored(3, buf + 16 * 32 + 16, 128);
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : (cols <= 16 ? (__mmask16)0 : (__mmask16)((1u << (cols - 16)) - 1));
    for (size_t r = 0; r < rows; r++) {
        float *cr = c + r * ldc;
        __m512 v0 = _mm512_load_ps(buf + r * 32), v1 = _mm512_load_ps(buf + r * 32 + 16);
        if (accumulate) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

TK_AMX_ATTR
static void amx_release(void) { _tile_release(); }

TK_BF16_ATTR
void tk_bf16_gemm_tiles(const uint16_t *pa, size_t mp, size_t m, size_t kp, const uint16_t *pb, size_t tile_first,
                        size_t tile_count, size_t n, float *c, size_t ldc, size_t kc, int accumulate, int use_amx) {
    // The worker's column tiles [tile_first, tile_first + tile_count) (16 columns each, in pairs),
    // all m rows. Loop order: K blocks of kc elements (the block of B stays in L2), rows in chunks
    // of 8 (32 with AMX; the chunk of A stays in L1 across the column pairs), then the column
    // pairs. With AMX (kp, kc multiples of 32, mp >= m rounded up to 32) a lone last tile still
    // takes the AVX512-BF16 kernel.
    size_t tile_end = tile_first + tile_count;
    int amx = use_amx && tk_bf16_amx_supported() && kp % 32 == 0 && kc % 32 == 0 && mp % 32 == 0 && mp >= m;
    if (amx) amx_configure();
    for (size_t k0 = 0; k0 < kp; k0 += kc) {
        size_t kb = kp - k0 < kc ? kp - k0 : kc;
        int acc = accumulate || k0 > 0;
        size_t step = amx ? 32 : 8;
        for (size_t r0 = 0; r0 < m; r0 += step) {
            size_t rows = m - r0 < step ? m - r0 : step;
            for (size_t t = tile_first; t < tile_end; t += 2) {
                size_t col0 = t * 16;
                if (col0 >= n) break;
                const uint16_t *tb0 = pb + t * kp * 16;
                const uint16_t *tb1 = (t + 1 < tile_end) ? pb + (t + 1) * kp * 16 : tb0;
                size_t cols = n - col0;
                if (t + 1 >= tile_end && cols > 16) cols = 16;
                if (cols > 32) cols = 32;
                if (amx && t + 1 < tile_end) {
                    amx_32x32(pa + r0 * kp + k0, kp, tb0 + k0 * 16, tb1 + k0 * 16, kb, c + r0 * ldc + col0, ldc, rows, cols, acc);
                } else {
                    for (size_t s = 0; s < rows; s += 8) {
                        size_t rr = rows - s < 8 ? rows - s : 8;
                        kernel_8x32(pa + (r0 + s) * kp + k0, kp, tb0 + k0 * 16, tb1 + k0 * 16, kb / 2,
                                    c + (r0 + s) * ldc + col0, ldc, rr, cols, acc);
                    }
                }
            }
        }
    }
    if (amx) amx_release();
}

int tk_bf16_gemm_supported(void) {
    return (tk_cpu_features() & TK_CPU_AVX512BF16) != 0;
}

int tk_bf16_amx_supported(void) {
    // AMX-TILE and AMX-BF16 in cpuid, and Linux's permission to use the tile data state (asked
    // once per process; the kernel then enables XCR0 bits 17-18 for this process's threads).
    static int cached = 0;  // 1 yes, 2 no; idempotent, so a benign race only asks twice
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v) return v == 1;
    int ok = 0;
    if (tk_bf16_gemm_supported() && (tk_cpu_features() & TK_CPU_AMX)) {
        unsigned a, b, c, d;
        __cpuid_count(7, 0, a, b, c, d);
        int amx_bf16 = (d >> 22) & 1;
#if defined(__linux__)
        if (amx_bf16 && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0) {
            uint32_t lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            ok = (lo & (3u << 17)) == (3u << 17);
        }
#endif
        (void)amx_bf16;
    }
    __atomic_store_n(&cached, ok ? 1 : 2, __ATOMIC_RELAXED);
    return ok;
}

#else
void tk_bf16_pack_b_kn(const float *b, size_t ldb, size_t n0, size_t n, size_t k, size_t kp, uint16_t *dst) { (void)b; (void)ldb; (void)n0; (void)n; (void)k; (void)kp; (void)dst; }
void tk_bf16_pack_a(const float *a, size_t lda, size_t rows, size_t k, size_t kp, uint16_t *dst) { (void)a; (void)lda; (void)rows; (void)k; (void)kp; (void)dst; }
void tk_bf16_pack_b(const void *w, int w_is_f32, size_t ldw, size_t n0, size_t n, size_t k, size_t kp, uint16_t *dst) { (void)w; (void)w_is_f32; (void)ldw; (void)n0; (void)n; (void)k; (void)kp; (void)dst; }
void tk_bf16_gemm_tiles(const uint16_t *pa, size_t mp, size_t m, size_t kp, const uint16_t *pb, size_t tile_first,
                        size_t tile_count, size_t n, float *c, size_t ldc, size_t kc, int accumulate, int use_amx) {
    (void)pa; (void)mp; (void)m; (void)kp; (void)pb; (void)tile_first; (void)tile_count; (void)n; (void)c; (void)ldc; (void)kc; (void)accumulate; (void)use_amx;
}
int tk_bf16_gemm_supported(void) { return 0; }
int tk_bf16_amx_supported(void) { return 0; }
#endif
