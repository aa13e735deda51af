// Run-time dispatch of the element-wise kernels: each kernel exists three times
// (kernels_scalar.c, kernels_avx2.c, kernels_avx512.c, all from kernels_impl.h); the public entry
// point calls the build for the requested path, falling back to scalar when the CPU lacks it.
#include "CTensorKernels.h"

static tk_kernel_path tk_effective(tk_kernel_path p) {
#if defined(__x86_64__)
    return tk_path_supported(p) ? p : TK_PATH_SCALAR;
#else
    (void)p;
    return TK_PATH_SCALAR;
#endif
}

#if defined(__x86_64__)
#define TK_DISPATCH(name, params, args)                          \
    void name##_scalar params;                                  \
    void name##_avx2 params;                                    \
    void name##_avx512 params;                                  \
    void name(tk_kernel_path path, TK_UNPAREN params) {         \
        switch (tk_effective(path)) {                           \
        case TK_PATH_AVX512: name##_avx512 args; return;        \
        case TK_PATH_AVX2: name##_avx2 args; return;            \
        default: name##_scalar args; return;                    \
        }                                                       \
    }
#else
#define TK_DISPATCH(name, params, args)                          \
    void name##_scalar params;                                  \
    void name(tk_kernel_path path, TK_UNPAREN params) {         \
        (void)path;                                             \
        name##_scalar args;                                     \
    }
#endif
// TK_UNPAREN (a, b) -> a, b: splices a parenthesised parameter list after `path`.
#define TK_UNPAREN(...) __VA_ARGS__

TK_DISPATCH(tk_bf16_to_f32, (const uint16_t *x, float *y, size_t n), (x, y, n))
TK_DISPATCH(tk_f32_to_bf16, (const float *x, uint16_t *y, size_t n), (x, y, n))
TK_DISPATCH(tk_f16_to_f32, (const uint16_t *x, float *y, size_t n), (x, y, n))
TK_DISPATCH(tk_f32_to_f16, (const float *x, uint16_t *y, size_t n), (x, y, n))
TK_DISPATCH(tk_add, (const float *x, const float *b, float *y, size_t n), (x, b, y, n))
TK_DISPATCH(tk_mul, (const float *x, const float *b, float *y, size_t n), (x, b, y, n))
TK_DISPATCH(tk_scale_shift, (const float *x, float s, float t, float *y, size_t n), (x, s, t, y, n))
TK_DISPATCH(tk_axpy_nofma, (const float *x, float s, const float *d, float *y, size_t n), (x, s, d, y, n))
TK_DISPATCH(tk_exp, (const float *x, float *y, size_t n), (x, y, n))
TK_DISPATCH(tk_silu, (const float *x, float *y, size_t n), (x, y, n))
TK_DISPATCH(tk_silu_mul, (const float *a, const float *b, float *y, size_t n), (a, b, y, n))
TK_DISPATCH(tk_tanh, (const float *x, float *y, size_t n), (x, y, n))
TK_DISPATCH(tk_softmax_rows, (const float *x, float *y, size_t rows, size_t cols), (x, y, rows, cols))
TK_DISPATCH(tk_rmsnorm_rows, (const float *x, const float *w, float *y, size_t rows, size_t cols, float eps), (x, w, y, rows, cols, eps))
TK_DISPATCH(tk_layernorm_rows, (const float *x, const float *w, const float *b, float *y, size_t rows, size_t cols, float eps), (x, w, b, y, rows, cols, eps))
TK_DISPATCH(tk_groupnorm, (const float *x, const float *gamma, const float *beta, float *y, size_t channels, size_t hw, size_t groups, float eps, int silu), (x, gamma, beta, y, channels, hw, groups, eps, silu))
TK_DISPATCH(tk_online_softmax_tile, (float *s, size_t rows, size_t cols, size_t lds, float *m, float *l, float *alpha), (s, rows, cols, lds, m, l, alpha))
