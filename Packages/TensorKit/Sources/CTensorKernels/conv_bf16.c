// bf16 convolution operands without a float32 im2col: the input band converted once to bf16
// channel pairs, the B tiles of the bf16 GEMM copied straight from it, K ordered (tap, channel).
#include "CTensorKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#include "bf16_internal.h"

// The band's rows of x [C, h, w] seen through nearest `up`x upsampling (up = 1 or 2): value
// (iy, ix) of the up·h x up·w image is x[iy / up][ix / up]. 16 output columns at a time: 16 (or 8
// duplicated) floats of each channel of a pair, rounded (vcvtneps2bf16) and interleaved.
TK_BF16_ATTR
static void band_input(const float *x, size_t c, size_t h, size_t w, size_t up, size_t pad_top, size_t pad_left,
                       size_t y0, size_t rows, size_t wp, uint16_t *xi) {
    const size_t c2 = (c + 1) / 2, uw = up * w;
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    for (size_t cp = 0; cp < c2; cp++) {
        for (size_t r = 0; r < rows; r++) {
            uint32_t *dst = (uint32_t *)(xi + ((cp * rows + r) * wp) * 2);
            const long iy = (long)(y0 + r) - (long)pad_top;
            if (iy < 0 || iy >= (long)(up * h)) { memset(dst, 0, wp * 4); continue; }
            const float *s0 = x + (2 * cp * h + (size_t)iy / up) * w;
            const float *s1 = 2 * cp + 1 < c ? s0 + h * w : NULL;
            // Padded columns X in [0, wp): image column (X - pad_left) / up when inside [0, uw).
            const size_t lo = pad_left < wp ? pad_left : wp;
            const size_t hi = pad_left + uw < wp ? pad_left + uw : wp;
            memset(dst, 0, lo * 4);
            size_t X = lo;
            for (; X + 16 <= hi; X += 16) {  // X - pad_left is a multiple of 16
                const size_t ix = (X - pad_left) / up;
                __m512 a, b = _mm512_setzero_ps();
                if (up == 2) {
                    a = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_loadu_ps(s0 + ix)));
                    if (s1) b = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_loadu_ps(s1 + ix)));
                } else {
                    a = _mm512_loadu_ps(s0 + ix);
                    if (s1) b = _mm512_loadu_ps(s1 + ix);
                }
                __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512((__m256i)_mm512_cvtneps_pbh(a)),
                                                  (__m256i)_mm512_cvtneps_pbh(b), 1);
                _mm512_storeu_si512((void *)(dst + X), _mm512_permutexvar_epi16(idx, both));
            }
            for (; X < hi; X++) {
                const size_t ix = (X - pad_left) / up;
                const uint32_t e0 = tk_f32_to_bf16_rne(s0[ix]), e1 = s1 ? tk_f32_to_bf16_rne(s1[ix]) : 0;
                dst[X] = e0 | (e1 << 16);
            }
            if (hi < wp) memset(dst + hi, 0, (wp - hi) * 4);
        }
    }
}

void tk_bf16_conv_band_input(const float *x, size_t c, size_t h, size_t w, size_t pad_top, size_t pad_left,
                             size_t y0, size_t rows, size_t wp, uint16_t *xi) {
    band_input(x, c, h, w, 1, pad_top, pad_left, y0, rows, wp, xi);
}

void tk_bf16_conv_band_input_up2(const float *x, size_t c, size_t h, size_t w, size_t pad_top, size_t pad_left,
                                 size_t y0, size_t rows, size_t wp, uint16_t *xi) {
    band_input(x, c, h, w, 2, pad_top, pad_left, y0, rows, wp, xi);
}

void tk_bf16_conv_pack_tiles(const uint16_t *xi, size_t c2, size_t rows, size_t wp, size_t kh, size_t kw,
                             size_t stride, size_t ow, size_t np, size_t kp, size_t tile_first, size_t tile_count,
                             uint16_t *pb) {
    const uint32_t *src = (const uint32_t *)xi;
    const size_t pairs = kh * kw * c2, plane = rows * wp;
    for (size_t t = tile_first; t < tile_first + tile_count; t++) {
        uint32_t *dst = (uint32_t *)(pb + t * 16 * kp);
        const size_t p0 = t * 16, oy = p0 / ow, ox = p0 % ow;
        if (stride == 1 && ox + 16 <= ow && p0 + 16 <= np) {
            // 16 pixels of one output row: each (tap, channel pair) is 64 contiguous bytes.
            for (size_t i = 0; i < kh; i++)
                for (size_t j = 0; j < kw; j++) {
                    const uint32_t *s = src + (oy + i) * wp + ox + j;
                    uint32_t *d = dst + ((i * kw + j) * c2) * 16;
                    for (size_t cp = 0; cp < c2; cp++) memcpy(d + cp * 16, s + cp * plane, 64);
                }
        } else {
            for (size_t q = 0; q < 16; q++) {
                const size_t p = p0 + q;
                const size_t qy = p / ow, qx = p % ow;
                for (size_t i = 0; i < kh; i++)
                    for (size_t j = 0; j < kw; j++) {
                        uint32_t *d = dst + ((i * kw + j) * c2) * 16 + q;
                        if (p >= np) { for (size_t cp = 0; cp < c2; cp++) d[cp * 16] = 0; continue; }
                        const uint32_t *s = src + (qy * stride + i) * wp + qx * stride + j;
                        for (size_t cp = 0; cp < c2; cp++) d[cp * 16] = s[cp * plane];
                    }
            }
        }
        if (kp / 2 > pairs) memset(dst + pairs * 16, 0, (kp / 2 - pairs) * 64);
    }
}

void tk_bf16_conv_pack_weight(const void *w, int w_is_f32, size_t o, size_t c, size_t taps, size_t kp, uint16_t *dst) {
    const size_t c2 = (c + 1) / 2;
    const uint16_t *wb = (const uint16_t *)w;
    const float *wf = (const float *)w;
    for (size_t r = 0; r < o; r++) {
        uint16_t *d = dst + r * kp;
        for (size_t t = 0; t < taps; t++)
            for (size_t ch = 0; ch < 2 * c2; ch++) {
                uint16_t v = 0;
                if (ch < c) {
                    const size_t at = (r * c + ch) * taps + t;
                    v = w_is_f32 ? tk_f32_to_bf16_rne(wf[at]) : wb[at];
                }
                d[t * 2 * c2 + ch] = v;
            }
        for (size_t i = taps * 2 * c2; i < kp; i++) d[i] = 0;
    }
}
#else
// Other architectures never select bf16 compute (tk_bf16_gemm_supported() is 0).
void tk_bf16_conv_band_input(const float *x, size_t c, size_t h, size_t w, size_t pad_top, size_t pad_left,
                             size_t y0, size_t rows, size_t wp, uint16_t *xi) {
    (void)x; (void)c; (void)h; (void)w; (void)pad_top; (void)pad_left; (void)y0; (void)rows; (void)wp; (void)xi;
}
void tk_bf16_conv_band_input_up2(const float *x, size_t c, size_t h, size_t w, size_t pad_top, size_t pad_left,
                                 size_t y0, size_t rows, size_t wp, uint16_t *xi) {
    (void)x; (void)c; (void)h; (void)w; (void)pad_top; (void)pad_left; (void)y0; (void)rows; (void)wp; (void)xi;
}
void tk_bf16_conv_pack_tiles(const uint16_t *xi, size_t c2, size_t rows, size_t wp, size_t kh, size_t kw,
                             size_t stride, size_t ow, size_t np, size_t kp, size_t tile_first, size_t tile_count,
                             uint16_t *pb) {
    (void)xi; (void)c2; (void)rows; (void)wp; (void)kh; (void)kw; (void)stride; (void)ow; (void)np; (void)kp;
    (void)tile_first; (void)tile_count; (void)pb;
}
void tk_bf16_conv_pack_weight(const void *w, int w_is_f32, size_t o, size_t c, size_t taps, size_t kp, uint16_t *dst) {
    (void)w; (void)w_is_f32; (void)o; (void)c; (void)taps; (void)kp; (void)dst;
}
#endif
