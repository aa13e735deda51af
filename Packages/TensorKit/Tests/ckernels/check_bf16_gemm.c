// Checks the bf16 GEMM kernels (AVX512-BF16 and, where the CPU and OS allow, AMX-BF16) against a
// float64 product of the same bf16-rounded operands, in plain C, so the AMX path can be verified on
// a machine that has AMX but no Swift toolchain:
//   cc -O2 -I ../../Sources/CTensorKernels/include ../../Sources/CTensorKernels/{cpu,dispatch,
//      kernels_scalar,kernels_avx2,kernels_avx512,gemm_bf16,conv_bf16}.c check_bf16_gemm.c -lm -o check_bf16_gemm
// Exit status 0 when every supported path is within 5e-7 of sum|a||w| of each element (measured
// <= 1e-7 on both paths), 77 when the CPU has no AVX512-BF16 (nothing to check).
#include "CTensorKernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long state = 88172645463325252ULL;
static float rnd(void) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (float)(state >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}
static float bf16_value(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
static size_t up(size_t v, size_t m) { return (v + m - 1) / m * m; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// The packers' definitions, element by element (round to nearest even), to compare the vector
// packers with bit for bit.
static uint16_t ref_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static int check_packers(void) {
    static const size_t shapes[][2] = {{16, 32}, {40, 64}, {33, 70}, {16, 7}, {50, 1030}, {17, 96}};
    int failures = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t n = shapes[s][0], k = shapes[s][1], kp = up(k, 32), ld = k + 3;
        float *wf = malloc(n * ld * 4);
        uint16_t *wb = malloc(n * ld * 2), *got = malloc(16 * kp * 2), *want = malloc(16 * kp * 2);
        for (size_t i = 0; i < n * ld; i++) {
            wf[i] = rnd() * 100;
            if (i % 97 == 5) wf[i] = 1.0f + 1.0f / 256;  // a tie: rounds to even
            wb[i] = ref_bf16(wf[i] * 0.5f);
        }
        for (int f32 = 0; f32 < 2; f32++) {
            for (size_t n0 = 0; n0 < n; n0 += 16) {
                for (size_t p = 0; p < kp / 2; p++)
                    for (size_t j = 0; j < 16; j++)
                        for (size_t e = 0; e < 2; e++) {
                            size_t row = n0 + j, col = 2 * p + e;
                            uint16_t v = 0;
                            if (row < n && col < k) v = f32 ? ref_bf16(wf[row * ld + col]) : wb[row * ld + col];
                            want[(p * 16 + j) * 2 + e] = v;
                        }
                memset(got, 0xff, 16 * kp * 2);
                tk_bf16_pack_b(f32 ? (const void *)wf : (const void *)wb, f32, ld, n0, n, k, kp, got);
                if (memcmp(got, want, 16 * kp * 2) != 0) { failures++; printf("pack_b n=%zu k=%zu n0=%zu f32=%d FAIL\n", n, k, n0, f32); }
            }
        }
        // A: rows of n x k floats rounded into stride kp.
        uint16_t *pa = malloc(n * kp * 2);
        memset(pa, 0xff, n * kp * 2);
        tk_bf16_pack_a(wf, ld, n, k, kp, pa);
        for (size_t r = 0; r < n; r++)
            for (size_t i = 0; i < kp; i++) {
                uint16_t v = i < k ? ref_bf16(wf[r * ld + i]) : 0;
                if (pa[r * kp + i] != v) { failures++; printf("pack_a n=%zu k=%zu row %zu col %zu FAIL\n", n, k, r, i); r = n; break; }
            }
        free(pa); free(wf); free(wb); free(got); free(want);
    }
    printf("packers (bit for bit against the element-wise definition): %s\n", failures ? "FAIL" : "ok");
    return failures;
}

// A convolution through the bf16 conv packers and the tile kernel (one band: the whole image),
// against a float64 sum over the same bf16-rounded operands. Covers the AMX path where present.
static int check_conv(int amx_path) {
    static const size_t cases[][7] = {  // c, o, h, w, k, stride, pad
        {5, 6, 9, 7, 3, 1, 1}, {3, 33, 8, 40, 3, 2, 1}, {4, 8, 6, 5, 1, 1, 0}, {16, 40, 20, 37, 3, 1, 1}, {64, 32, 6, 48, 3, 1, 1}};
    int failures = 0;
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        size_t c = cases[s][0], o = cases[s][1], h = cases[s][2], w = cases[s][3], k = cases[s][4], st = cases[s][5], pad = cases[s][6];
        size_t oh = (h + 2 * pad - k) / st + 1, ow = (w + 2 * pad - k) / st + 1, np = oh * ow, c2 = (c + 1) / 2, taps = k * k;
        int amx = amx_path && tk_bf16_amx_supported() && o >= 32;
        size_t kp = amx ? up(taps * c2 * 2, 32) : taps * c2 * 2, mp = amx ? up(o, 32) : up(o, 8);
        size_t wp = w + 2 * pad, rows = (oh - 1) * st + k, tiles = (np + 15) / 16;
        float *x = malloc(c * h * w * 4), *out = calloc(o * np, 4);
        uint16_t *wt = malloc(o * c * taps * 2), *pa = calloc(mp * kp, 2), *xi = malloc(c2 * rows * wp * 4), *pb = malloc(tiles * 16 * kp * 2);
        for (size_t i = 0; i < c * h * w; i++) x[i] = rnd() * 2;
        for (size_t i = 0; i < o * c * taps; i++) wt[i] = ref_bf16(rnd());
        tk_bf16_conv_pack_weight(wt, 0, o, c, taps, kp, pa);
        tk_bf16_conv_band_input(x, c, h, w, pad, pad, 0, rows, wp, xi);
        tk_bf16_conv_pack_tiles(xi, c2, rows, wp, k, k, st, ow, np, kp, 0, tiles, pb);
        tk_bf16_gemm_tiles(pa, mp, o, kp, pb, 0, tiles, np, out, np, 1024, 0, amx_path);
        double worst = 0;
        for (size_t oc = 0; oc < o; oc++) for (size_t p = 0; p < np; p++) {
            size_t oy = p / ow, ox = p % ow;
            double ref = 0, mag = 0;
            for (size_t ic = 0; ic < c; ic++) for (size_t i = 0; i < k; i++) for (size_t j = 0; j < k; j++) {
                long iy = (long)(oy * st + i) - (long)pad, ix = (long)(ox * st + j) - (long)pad;
                if (iy < 0 || ix < 0 || iy >= (long)h || ix >= (long)w) continue;
                double v = bf16_value(ref_bf16(x[(ic * h + (size_t)iy) * w + (size_t)ix])) * (double)bf16_value(wt[(oc * c + ic) * taps + i * k + j]);
                ref += v; mag += fabs(v);
            }
            double d = fabs(out[oc * np + p] - ref) / (mag + 1e-30);
            if (d > worst) worst = d;
        }
        int ok = worst <= 5e-7;
        failures += !ok;
        printf("conv %zu->%zu %zux%zu k%zu s%zu %s  worst |err|/sum|x w| %.2e %s\n", c, o, h, w, k, st,
               amx ? "amx   " : (amx_path ? "amx->avx512" : "avx512"), worst, ok ? "ok" : "FAIL");
        free(x); free(out); free(wt); free(pa); free(xi); free(pb);
    }
    return failures;
}

// C = A W^T (+ C0 when accumulate) through one call of the tile kernel over all tiles.
static void run(int amx, size_t m, size_t n, size_t k, const float *a, const uint16_t *w, float *c, int accumulate,
                size_t kc) {
    size_t kp = amx ? up(k, 32) : up(k, 2), mp = amx ? up(m, 32) : up(m, 8), tiles = (n + 15) / 16;
    uint16_t *pa = calloc(mp * kp, 2), *pb = calloc(tiles * 16 * kp, 2);
    tk_bf16_pack_a(a, k, m, k, kp, pa);
    for (size_t t = 0; t < tiles; t++) tk_bf16_pack_b(w, 0, k, t * 16, n, k, kp, pb + t * 16 * kp);
    tk_bf16_gemm_tiles(pa, mp, m, kp, pb, 0, tiles, n, c, n, kc, accumulate, amx);
    free(pa); free(pb);
}

int main(void) {
    if (!tk_bf16_gemm_supported()) { printf("no AVX512-BF16: nothing to check\n"); return 77; }
    int amx = tk_bf16_amx_supported();
    printf("AVX512-BF16 yes, AMX-BF16 %s\n", amx ? "yes" : "no (AMX cases run the AVX512-BF16 kernel)");
    static const size_t shapes[][3] = {{1, 16, 2}, {7, 33, 5}, {32, 32, 32}, {33, 47, 100}, {64, 96, 1030},
                                       {100, 50, 2050}, {128, 256, 3840}, {31, 64, 64}};
    int failures = check_packers();
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *a = malloc(m * k * 4), *c0 = malloc(m * n * 4), *c = malloc(m * n * 4);
        uint16_t *w = malloc(n * k * 2), *ab = malloc(m * k * 2);
        for (size_t i = 0; i < m * k; i++) a[i] = rnd() * 3;
        for (size_t i = 0; i < n * k; i++) { float f = rnd(); uint32_t u; memcpy(&u, &f, 4); w[i] = (uint16_t)(u >> 16); }
        for (size_t i = 0; i < m * n; i++) c0[i] = rnd();
        tk_bf16_pack_a(a, k, m, k, k, ab);  // the rounding the kernels apply, for the reference
        for (int path = 0; path < 2; path++) {
            for (int accumulate = 0; accumulate < 2; accumulate++) {
                memcpy(c, c0, m * n * 4);
                run(path, m, n, k, a, w, c, accumulate, 1024);
                double worst = 0;
                for (size_t i = 0; i < m; i++) for (size_t j = 0; j < n; j++) {
                    double ref = accumulate ? c0[i * n + j] : 0, mag = accumulate ? fabs(c0[i * n + j]) : 0;
                    for (size_t p = 0; p < k; p++) {
                        double x = bf16_value(ab[i * k + p]) * (double)bf16_value(w[j * k + p]);
                        ref += x; mag += fabs(x);
                    }
                    double d = fabs(c[i * n + j] - ref) / (mag + 1e-30);
                    if (d > worst) worst = d;
                }
                int ok = worst <= 5e-7;  // measured <= 1e-7 on both paths
                failures += !ok;
                printf("m=%-4zu n=%-4zu k=%-5zu %s accumulate=%d  worst |err|/sum|a w| %.2e %s\n", m, n, k,
                       path ? (amx ? "amx   " : "amx->avx512") : "avx512", accumulate, worst, ok ? "ok" : "FAIL");
            }
        }
        free(a); free(c0); free(c); free(w); free(ab);
    }
    failures += check_conv(0) + check_conv(1);
    // Single-thread throughput of each path at 512 x 1024 x 3840 (information only).
    size_t m = 512, n = 1024, k = 3840;
    float *a = malloc(m * k * 4), *c = malloc(m * n * 4);
    uint16_t *w = malloc(n * k * 2);
    for (size_t i = 0; i < m * k; i++) a[i] = rnd();
    for (size_t i = 0; i < n * k; i++) w[i] = 0x3f80;
    for (int path = 0; path < 2; path++) {
        size_t kp = path ? up(k, 32) : k, mp = path ? up(m, 32) : up(m, 8), tiles = n / 16;
        uint16_t *pa = calloc(mp * kp, 2), *pb = calloc(tiles * 16 * kp, 2);
        tk_bf16_pack_a(a, k, m, k, kp, pa);
        for (size_t t = 0; t < tiles; t++) tk_bf16_pack_b(w, 0, k, t * 16, n, k, kp, pb + t * 16 * kp);
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            double t0 = now();
            tk_bf16_gemm_tiles(pa, mp, m, kp, pb, 0, tiles, n, c, n, 1024, 0, path);
            double t = now() - t0;
            if (t < best) best = t;
        }
        printf("one thread %s: %.1f GFLOP/s (%zux%zux%zu)\n", path ? (amx ? "amx" : "amx->avx512") : "avx512",
               2.0 * m * n * k / best / 1e9, m, n, k);
        free(pa); free(pb);
    }
    free(a); free(c); free(w);
    printf("%s\n", failures ? "FAILED" : "all ok");
    return failures ? 1 : 0;
}
