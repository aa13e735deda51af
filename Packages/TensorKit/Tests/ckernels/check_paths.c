// Cross-checks every kernel path this CPU supports against the scalar path, in plain C, so the
// AVX-512 build can be verified on a machine that has AVX-512 but no Swift toolchain:
//   cc -O2 -I ../../Sources/CTensorKernels/include ../../Sources/CTensorKernels/{cpu,dispatch,
//      kernels_scalar,kernels_avx2,kernels_avx512}.c check_paths.c -lm -o check_paths && ./check_paths
// Exit status 0 when all supported paths agree (conversions bit for bit, math within 4e-6).
#include "CTensorKernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 88172645463325252ULL;
static float rnd(float scale) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return ((float)(state >> 40) / (float)(1 << 24) * 2.0f - 1.0f) * scale;
}

static int failures = 0;

static void compare(const char *what, int path, const float *a, const float *b, size_t n, float tol) {
    double worst = 0; size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) != isnan(b[i])) { worst = INFINITY; wi = i; break; }
        if (isnan(a[i])) continue;
        if (isinf(a[i]) || isinf(b[i])) { if (a[i] != b[i]) { worst = INFINITY; wi = i; break; } continue; }
        double d = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + 1.0);  // relative for |b| >> 1, absolute below
        if (d > worst) { worst = d; wi = i; }
    }
    int ok = worst <= tol;
    printf("%-22s path %d: worst diff/(|ref|+1) %.3g at %zu %s\n", what, path, worst, wi, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

static void compare_bits(const char *what, int path, const uint16_t *a, const uint16_t *b, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) if (a[i] != b[i]) bad++;
    printf("%-22s path %d: %zu of %zu differ %s\n", what, path, bad, n, bad ? "FAIL" : "ok");
    if (bad) failures++;
}

int main(void) {
    const size_t n = 4099, rows = 31, cols = 111;  // rows * cols <= n - 8
    float *x = malloc(n * 4), *x2 = malloc(n * 4), *w = malloc(cols * 4), *b = malloc(cols * 4);
    float *ref = malloc(n * 4), *out = malloc(n * 4);
    uint16_t *h = malloc(n * 2), *hr = malloc(n * 2), *ho = malloc(n * 2);
    for (size_t i = 0; i < n; i++) { x[i] = rnd(8); x2[i] = rnd(3); }
    x[0] = NAN; x[1] = INFINITY; x[2] = -INFINITY; x[3] = -0.0f; x[4] = 1e-40f; x[5] = 65520.0f; x[6] = 3.4e38f;
    for (size_t i = 0; i < cols; i++) { w[i] = rnd(2); b[i] = rnd(1); }
    for (size_t i = 0; i < n; i++) { uint32_t u; memcpy(&u, &x[i], 4); h[i] = (uint16_t)(u >> 16) ^ (uint16_t)i; }
    for (int p = 1; p <= 2; p++) {
        if (!tk_path_supported((tk_kernel_path)p)) { printf("path %d not supported on this CPU\n", p); continue; }
        tk_kernel_path P = (tk_kernel_path)p, S = TK_PATH_SCALAR;
#define UN(name) name(S, x + 7, ref, n - 7); name(P, x + 7, out, n - 7); compare(#name, p, out, ref, n - 7, 4e-6f);
        UN(tk_exp) UN(tk_silu) UN(tk_tanh)
        tk_silu_mul(S, x, x2, ref, n); tk_silu_mul(P, x, x2, out, n); compare("tk_silu_mul", p, out, ref, n, 4e-6f);
        tk_add(S, x, x2, ref, n); tk_add(P, x, x2, out, n); compare("tk_add", p, out, ref, n, 0);
        tk_mul(S, x, x2, ref, n); tk_mul(P, x, x2, out, n); compare("tk_mul", p, out, ref, n, 0);
        tk_scale_shift(S, x, 1.3f, -0.7f, ref, n); tk_scale_shift(P, x, 1.3f, -0.7f, out, n); compare("tk_scale_shift", p, out, ref, n, 0);
        tk_axpy_nofma(S, x, 0.3f, x2, ref, n); tk_axpy_nofma(P, x, 0.3f, x2, out, n); compare("tk_axpy_nofma", p, out, ref, n, 0);
        tk_softmax_rows(S, x + 8, ref, rows, cols); tk_softmax_rows(P, x + 8, out, rows, cols); compare("tk_softmax_rows", p, out, ref, rows * cols, 4e-6f);
        tk_rmsnorm_rows(S, x + 8, w, ref, rows, cols, 1e-6f); tk_rmsnorm_rows(P, x + 8, w, out, rows, cols, 1e-6f); compare("tk_rmsnorm_rows", p, out, ref, rows * cols, 4e-6f);
        tk_layernorm_rows(S, x + 8, w, b, ref, rows, cols, 1e-6f); tk_layernorm_rows(P, x + 8, w, b, out, rows, cols, 1e-6f); compare("tk_layernorm_rows", p, out, ref, rows * cols, 4e-5f);
        tk_groupnorm(S, x + 8, w, b, ref, 8, 97, 4, 1e-6f, 0); tk_groupnorm(P, x + 8, w, b, out, 8, 97, 4, 1e-6f, 0); compare("tk_groupnorm", p, out, ref, 8 * 97, 4e-5f);
        tk_groupnorm(S, x + 8, w, b, ref, 8, 97, 4, 1e-6f, 1); tk_groupnorm(P, x + 8, w, b, out, 8, 97, 4, 1e-6f, 1); compare("tk_groupnorm+silu", p, out, ref, 8 * 97, 4e-5f);
        {
            float m1[31], l1[31], a1[31], m2[31], l2[31], a2[31];
            for (int r = 0; r < 31; r++) { m1[r] = m2[r] = (r % 3 == 0) ? -INFINITY : 0.5f; l1[r] = l2[r] = 1.0f; }
            memcpy(ref, x + 8, rows * cols * 4); memcpy(out, x + 8, rows * cols * 4);
            for (size_t c = 0; c < cols; c++) { ref[5 * cols + c] = -INFINITY; out[5 * cols + c] = -INFINITY; }
            tk_online_softmax_tile(S, ref, rows, cols, cols, m1, l1, a1); tk_online_softmax_tile(P, out, rows, cols, cols, m2, l2, a2);
            compare("online_softmax p", p, out, ref, rows * cols, 4e-6f);
            compare("online_softmax l", p, l2, l1, 31, 4e-6f);
            compare("online_softmax alpha", p, a2, a1, 31, 4e-6f);
        }
        tk_f32_to_bf16(S, x, hr, n); tk_f32_to_bf16(P, x, ho, n); compare_bits("tk_f32_to_bf16", p, ho, hr, n);
        tk_f32_to_f16(S, x, hr, n); tk_f32_to_f16(P, x, ho, n); compare_bits("tk_f32_to_f16", p, ho, hr, n);
        tk_bf16_to_f32(S, h, ref, n); tk_bf16_to_f32(P, h, out, n); compare_bits("tk_bf16_to_f32", p, (uint16_t *)out, (uint16_t *)ref, 2 * n);
        tk_f16_to_f32(S, h, ref, n); tk_f16_to_f32(P, h, out, n); compare_bits("tk_f16_to_f32", p, (uint16_t *)out, (uint16_t *)ref, 2 * n);
    }
    printf("%s\n", failures ? "FAILED" : "all supported paths agree with the scalar path");
    return failures ? 1 : 0;
}
