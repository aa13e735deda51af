// Run-time dispatch of the element-wise kernels (generated list; one entry per kernel).
#include "CTensorKernels.h"

void tk_bf16_to_f32_scalar(const uint16_t *x, float *y, size_t n);
void tk_bf16_to_f32_avx2(const uint16_t *x, float *y, size_t n);
void tk_bf16_to_f32_avx512(const uint16_t *x, float *y, size_t n);
void tk_f32_to_bf16_scalar(const float *x, uint16_t *y, size_t n);
void tk_f32_to_bf16_avx2(const float *x, uint16_t *y, size_t n);
void tk_f32_to_bf16_avx512(const float *x, uint16_t *y, size_t n);
void tk_f16_to_f32_scalar(const uint16_t *x, float *y, size_t n);
void tk_f16_to_f32_avx2(const uint16_t *x, float *y, size_t n);
void tk_f16_to_f32_avx512(const uint16_t *x, float *y, size_t n);
void tk_f32_to_f16_scalar(const float *x, uint16_t *y, size_t n);
void tk_f32_to_f16_avx2(const float *x, uint16_t *y, size_t n);
void tk_f32_to_f16_avx512(const float *x, uint16_t *y, size_t n);
void tk_add_scalar(const float *x, const float *b, float *y, size_t n);
void tk_add_avx2(const float *x, const float *b, float *y, size_t n);
void tk_add_avx512(const float *x, const float *b, float *y, size_t n);
void tk_mul_scalar(const float *x, const float *b, float *y, size_t n);
void tk_mul_avx2(const float *x, const float *b, float *y, size_t n);
void tk_mul_avx512(const float *x, const float *b, float *y, size_t n);
void tk_scale_shift_scalar(const float *x, float s, float t, float *y, size_t n);
void tk_scale_shift_avx2(const float *x, float s, float t, float *y, size_t n);
void tk_scale_shift_avx512(const float *x, float s, float t, float *y, size_t n);
void tk_axpy_nofma_scalar(const float *x, float s, const float *d, float *y, size_t n);
void tk_axpy_nofma_avx2(const float *x, float s, const float *d, float *y, size_t n);
void tk_axpy_nofma_avx512(const float *x, float s, const float *d, float *y, size_t n);
void tk_exp_scalar(const float *x, float *y, size_t n);
void tk_exp_avx2(const float *x, float *y, size_t n);
void tk_exp_avx512(const float *x, float *y, size_t n);
void tk_silu_scalar(const float *x, float *y, size_t n);
void tk_silu_avx2(const float *x, float *y, size_t n);
void tk_silu_avx512(const float *x, float *y, size_t n);
void tk_silu_mul_scalar(const float *a, const float *b, float *y, size_t n);
void tk_silu_mul_avx2(const float *a, const float *b, float *y, size_t n);
void tk_silu_mul_avx512(const float *a, const float *b, float *y, size_t n);
void tk_tanh_scalar(const float *x, float *y, size_t n);
void tk_tanh_avx2(const float *x, float *y, size_t n);
void tk_tanh_avx512(const float *x, float *y, size_t n);
void tk_softmax_rows_scalar(const float *x, float *y, size_t rows, size_t cols);
void tk_softmax_rows_avx2(const float *x, float *y, size_t rows, size_t cols);
void tk_softmax_rows_avx512(const float *x, float *y, size_t rows, size_t cols);
void tk_rmsnorm_rows_scalar(const float *x, const float *w, float *y, size_t rows, size_t cols, float eps);
void tk_rmsnorm_rows_avx2(const float *x, const float *w, float *y, size_t rows, size_t cols, float eps);
void tk_rmsnorm_rows_avx512(const float *x, const float *w, float *y, size_t rows, size_t cols, float eps);
void tk_layernorm_rows_scalar(const float *x, const float *w, const float *b, float *y, size_t rows, size_t cols, float eps);
void tk_layernorm_rows_avx2(const float *x, const float *w, const float *b, float *y, size_t rows, size_t cols, float eps);
void tk_layernorm_rows_avx512(const float *x, const float *w, const float *b, float *y, size_t rows, size_t cols, float eps);
void tk_groupnorm_scalar(const float *x, const float *gamma, const float *beta, float *y, size_t channels, size_t hw, size_t groups, float eps);
void tk_groupnorm_avx2(const float *x, const float *gamma, const float *beta, float *y, size_t channels, size_t hw, size_t groups, float eps);
void tk_groupnorm_avx512(const float *x, const float *gamma, const float *beta, float *y, size_t channels, size_t hw, size_t groups, float eps);
void tk_online_softmax_tile_scalar(float *s, size_t rows, size_t cols, size_t lds, float *m, float *l, float *alpha);
void tk_online_softmax_tile_avx2(float *s, size_t rows, size_t cols, size_t lds, float *m, float *l, float *alpha);
void tk_online_softmax_tile_avx512(float *s, size_t rows, size_t cols, size_t lds, float *m, float *l, float *alpha);

static tk_kernel_path tk_effective(tk_kernel_path p) {
#if defined(__x86_64__)
    return tk_path_supported(p) ? p : TK_PATH_SCALAR;
#else
    (void)p;
    return TK_PATH_SCALAR;
#endif
}

void tk_bf16_to_f32(tk_kernel_path path, const uint16_t *x, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_bf16_to_f32_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_bf16_to_f32_avx2(x, y, n); return;
#endif
    default: tk_bf16_to_f32_scalar(x, y, n); return;
    }
}

void tk_f32_to_bf16(tk_kernel_path path, const float *x, uint16_t *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_f32_to_bf16_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_f32_to_bf16_avx2(x, y, n); return;
#endif
    default: tk_f32_to_bf16_scalar(x, y, n); return;
    }
}

void tk_f16_to_f32(tk_kernel_path path, const uint16_t *x, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_f16_to_f32_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_f16_to_f32_avx2(x, y, n); return;
#endif
    default: tk_f16_to_f32_scalar(x, y, n); return;
    }
}

void tk_f32_to_f16(tk_kernel_path path, const float *x, uint16_t *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_f32_to_f16_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_f32_to_f16_avx2(x, y, n); return;
#endif
    default: tk_f32_to_f16_scalar(x, y, n); return;
    }
}

void tk_add(tk_kernel_path path, const float *x, const float *b, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_add_avx512(x, b, y, n); return;
    case TK_PATH_AVX2: tk_add_avx2(x, b, y, n); return;
#endif
    default: tk_add_scalar(x, b, y, n); return;
    }
}

void tk_mul(tk_kernel_path path, const float *x, const float *b, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_mul_avx512(x, b, y, n); return;
    case TK_PATH_AVX2: tk_mul_avx2(x, b, y, n); return;
#endif
    default: tk_mul_scalar(x, b, y, n); return;
    }
}

void tk_scale_shift(tk_kernel_path path, const float *x, float s, float t, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_scale_shift_avx512(x, s, t, y, n); return;
    case TK_PATH_AVX2: tk_scale_shift_avx2(x, s, t, y, n); return;
#endif
    default: tk_scale_shift_scalar(x, s, t, y, n); return;
    }
}

void tk_axpy_nofma(tk_kernel_path path, const float *x, float s, const float *d, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_axpy_nofma_avx512(x, s, d, y, n); return;
    case TK_PATH_AVX2: tk_axpy_nofma_avx2(x, s, d, y, n); return;
#endif
    default: tk_axpy_nofma_scalar(x, s, d, y, n); return;
    }
}

void tk_exp(tk_kernel_path path, const float *x, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_exp_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_exp_avx2(x, y, n); return;
#endif
    default: tk_exp_scalar(x, y, n); return;
    }
}

void tk_silu(tk_kernel_path path, const float *x, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_silu_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_silu_avx2(x, y, n); return;
#endif
    default: tk_silu_scalar(x, y, n); return;
    }
}

void tk_silu_mul(tk_kernel_path path, const float *a, const float *b, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_silu_mul_avx512(a, b, y, n); return;
    case TK_PATH_AVX2: tk_silu_mul_avx2(a, b, y, n); return;
#endif
    default: tk_silu_mul_scalar(a, b, y, n); return;
    }
}

void tk_tanh(tk_kernel_path path, const float *x, float *y, size_t n) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_tanh_avx512(x, y, n); return;
    case TK_PATH_AVX2: tk_tanh_avx2(x, y, n); return;
#endif
    default: tk_tanh_scalar(x, y, n); return;
    }
}

void tk_softmax_rows(tk_kernel_path path, const float *x, float *y, size_t rows, size_t cols) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_softmax_rows_avx512(x, y, rows, cols); return;
    case TK_PATH_AVX2: tk_softmax_rows_avx2(x, y, rows, cols); return;
#endif
    default: tk_softmax_rows_scalar(x, y, rows, cols); return;
    }
}

void tk_rmsnorm_rows(tk_kernel_path path, const float *x, const float *w, float *y, size_t rows, size_t cols, float eps) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_rmsnorm_rows_avx512(x, w, y, rows, cols, eps); return;
    case TK_PATH_AVX2: tk_rmsnorm_rows_avx2(x, w, y, rows, cols, eps); return;
#endif
    default: tk_rmsnorm_rows_scalar(x, w, y, rows, cols, eps); return;
    }
}

void tk_layernorm_rows(tk_kernel_path path, const float *x, const float *w, const float *b, float *y, size_t rows, size_t cols, float eps) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_layernorm_rows_avx512(x, w, b, y, rows, cols, eps); return;
    case TK_PATH_AVX2: tk_layernorm_rows_avx2(x, w, b, y, rows, cols, eps); return;
#endif
    default: tk_layernorm_rows_scalar(x, w, b, y, rows, cols, eps); return;
    }
}

void tk_groupnorm(tk_kernel_path path, const float *x, const float *gamma, const float *beta, float *y, size_t channels, size_t hw, size_t groups, float eps) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_groupnorm_avx512(x, gamma, beta, y, channels, hw, groups, eps); return;
    case TK_PATH_AVX2: tk_groupnorm_avx2(x, gamma, beta, y, channels, hw, groups, eps); return;
#endif
    default: tk_groupnorm_scalar(x, gamma, beta, y, channels, hw, groups, eps); return;
    }
}

void tk_online_softmax_tile(tk_kernel_path path, float *s, size_t rows, size_t cols, size_t lds, float *m, float *l, float *alpha) {
    switch (tk_effective(path)) {
#if defined(__x86_64__)
    case TK_PATH_AVX512: tk_online_softmax_tile_avx512(s, rows, cols, lds, m, l, alpha); return;
    case TK_PATH_AVX2: tk_online_softmax_tile_avx2(s, rows, cols, lds, m, l, alpha); return;
#endif
    default: tk_online_softmax_tile_scalar(s, rows, cols, lds, m, l, alpha); return;
    }
}
