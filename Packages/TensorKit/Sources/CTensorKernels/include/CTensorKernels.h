// CTensorKernels: the C side of TensorKit.
//
// - cpu features (cpuid + xgetbv),
// - the OpenBLAS loader (dlopen after choosing OPENBLAS_CORETYPE),
// - hot element-wise kernels, each compiled three times (scalar, AVX2, AVX-512) from one source
//   (kernels_impl.h) and selected at run time through a `tk_kernel_path`.
//
// All sizes are element counts. Pointers may alias only where a comment says so
// ("in place allowed": y may equal x).
#ifndef CTENSORKERNELS_H
#define CTENSORKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------------
// CPU features

enum {
    TK_CPU_AVX2 = 1 << 0,
    TK_CPU_FMA = 1 << 1,
    TK_CPU_F16C = 1 << 2,
    TK_CPU_AVX512F = 1 << 3,
    TK_CPU_AVX512BW = 1 << 4,
    TK_CPU_AVX512DQ = 1 << 5,
    TK_CPU_AVX512VL = 1 << 6,
    TK_CPU_AVX512BF16 = 1 << 7,
    TK_CPU_AVX512VNNI = 1 << 8,
    TK_CPU_AVX512FP16 = 1 << 9,
    TK_CPU_AMX = 1 << 10,
    /// The OS saves YMM state (XCR0 bits 1-2).
    TK_CPU_OS_AVX = 1 << 11,
    /// The OS saves ZMM/opmask state (XCR0 bits 5-7).
    TK_CPU_OS_AVX512 = 1 << 12,
};

/// Bit set of TK_CPU_* flags of the running CPU (OS support already folded into the AVX bits:
/// TK_CPU_AVX2 is only reported when the OS saves YMM state, TK_CPU_AVX512* only with ZMM state).
uint32_t tk_cpu_features(void);
/// CPU vendor string ("GenuineIntel", "AuthenticAMD", ...), written into `out` (>= 13 bytes).
void tk_cpu_vendor(char *out);

// ---------------------------------------------------------------------------------------------
// Kernel paths

typedef enum {
    TK_PATH_SCALAR = 0,
    TK_PATH_AVX2 = 1,
    TK_PATH_AVX512 = 2,
} tk_kernel_path;

/// Whether `path` can run on this CPU.
int tk_path_supported(tk_kernel_path path);

// ---------------------------------------------------------------------------------------------
// OpenBLAS, loaded at run time

/// Loads OpenBLAS (once per process; later calls return the first result).
/// `coretype`: the OPENBLAS_CORETYPE to set before loading when the environment has none
/// (NULL or "" = leave the library's own detection). Returns 0 on success; on failure writes a
/// one-line reason into `err`.
/// `*already_loaded` is set to 1 when some other code had loaded the library before us, in which
/// case the core type could not be chosen.
int tk_blas_load(const char *coretype, int *already_loaded, char *err, size_t errlen);
/// Core name reported by the loaded library (`openblas_get_corename()`), or "" when not loaded.
const char *tk_blas_corename(void);
/// Build configuration string (`openblas_get_config()`), or "" when not loaded.
const char *tk_blas_config(void);
/// The loaded library's path (from dladdr), or "".
const char *tk_blas_path(void);
void tk_blas_set_num_threads(int n);
int tk_blas_get_num_threads(void);
/// Whether the library exports `cblas_sbgemm` (Debian's 0.3.21 declares it but does not export it).
int tk_blas_has_sbgemm(void);

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C.
/// op(A) is M x K, op(B) is K x N, C is M x N with leading dimension ldc.
void tk_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

// ---------------------------------------------------------------------------------------------
// Element-wise kernels (dispatch on `path`; an unsupported path falls back to scalar)

/// bf16 (raw uint16 bits) -> f32, exact.
void tk_bf16_to_f32(tk_kernel_path path, const uint16_t *x, float *y, size_t n);
/// f32 -> bf16 bits, round to nearest even; NaN stays NaN (quieted), +-inf and -0 are kept.
void tk_f32_to_bf16(tk_kernel_path path, const float *x, uint16_t *y, size_t n);
/// f16 (raw bits) -> f32, exact (subnormals, inf, NaN kept).
void tk_f16_to_f32(tk_kernel_path path, const uint16_t *x, float *y, size_t n);
/// f32 -> f16 bits, round to nearest even, overflow to inf, NaN stays NaN.
void tk_f32_to_f16(tk_kernel_path path, const float *x, uint16_t *y, size_t n);

/// y = x + b (in place allowed).
void tk_add(tk_kernel_path path, const float *x, const float *b, float *y, size_t n);
/// y = x * b (in place allowed).
void tk_mul(tk_kernel_path path, const float *x, const float *b, float *y, size_t n);
/// y = x * s + t, scalars s and t (two roundings, no fused multiply-add; in place allowed).
void tk_scale_shift(tk_kernel_path path, const float *x, float s, float t, float *y, size_t n);
/// y = x + s * d, scalar s (two roundings, no fused multiply-add; in place allowed).
void tk_axpy_nofma(tk_kernel_path path, const float *x, float s, const float *d, float *y, size_t n);
/// y = exp(x) (in place allowed).
void tk_exp(tk_kernel_path path, const float *x, float *y, size_t n);
/// y = x * sigmoid(x) (in place allowed).
void tk_silu(tk_kernel_path path, const float *x, float *y, size_t n);
/// y = silu(a) * b (in place allowed on either input).
void tk_silu_mul(tk_kernel_path path, const float *a, const float *b, float *y, size_t n);
/// y = tanh(x) (in place allowed).
void tk_tanh(tk_kernel_path path, const float *x, float *y, size_t n);
/// Softmax over each of `rows` rows of `cols` contiguous values (in place allowed).
void tk_softmax_rows(tk_kernel_path path, const float *x, float *y, size_t rows, size_t cols);
/// RMSNorm of each row: y = x / sqrt(mean(x^2) + eps) * w (w may be NULL; in place allowed).
void tk_rmsnorm_rows(tk_kernel_path path, const float *x, const float *w, float *y, size_t rows,
                     size_t cols, float eps);
/// LayerNorm of each row (biased variance): y = (x - mean) / sqrt(var + eps) [* w + b]
/// (w, b may be NULL; in place allowed).
void tk_layernorm_rows(tk_kernel_path path, const float *x, const float *w, const float *b,
                       float *y, size_t rows, size_t cols, float eps);
/// GroupNorm of one sample laid out (C, HW): G groups of C/G channels, statistics over each
/// group's (C/G)*HW values; y = (x - mean) * rstd * gamma[c] + beta[c] (gamma/beta may be NULL),
/// then y = silu(y) when `silu` is nonzero (the same values as the two passes).
void tk_groupnorm(tk_kernel_path path, const float *x, const float *gamma, const float *beta,
                  float *y, size_t channels, size_t hw, size_t groups, float eps, int silu);

/// One online-softmax step over a tile of attention scores.
/// `s`: rows x cols scores (row stride lds), already scaled and with masked entries at -inf;
/// `m`, `l`: per-row running max and running sum (updated);
/// `alpha`: per-row factor (out) by which the caller rescales its output accumulator.
/// On return `s` holds exp(s - m_new) (0 where masked). A row whose entries are all -inf
/// so far keeps m = -inf, l = 0 and gets alpha = 1 and p = 0 (no NaN).
void tk_online_softmax_tile(tk_kernel_path path, float *s, size_t rows, size_t cols, size_t lds,
                            float *m, float *l, float *alpha);

// ---------------------------------------------------------------------------------------------
// Convolution helper

/// im2col for a band of output rows of a 2-D convolution over one image (C, H, W), zero padding.
/// Writes col[(c*kh*kw + i*kw + j) * (rows*outW) + r*outW + ox] for output rows
/// oy0 .. oy0+rows-1, where input row = oy*stride - padTop + i, column = ox*stride - padLeft + j.
void tk_im2col_band(const float *x, size_t channels, size_t height, size_t width, size_t kh,
                    size_t kw, size_t stride, size_t padTop, size_t padLeft, size_t outW,
                    size_t oy0, size_t rows, float *col);
/// tk_im2col_band (stride 1) of x [C, height, width] seen through nearest 2x upsampling, i.e. of
/// the [C, 2·height, 2·width] image whose value (iy, ix) is x[iy / 2][ix / 2], without making it.
void tk_im2col_band_up2(const float *x, size_t channels, size_t height, size_t width, size_t kh, size_t kw,
                        size_t padTop, size_t padLeft, size_t outW, size_t oy0, size_t rows, float *col);

// ---------------------------------------------------------------------------------------------
// bf16 GEMM (AVX512-BF16), C[M, N] (=|+=) A[M, K] · W[N, K]ᵀ with fp32 accumulation.
// kp = K rounded up to even. Packed A: rows of kp bf16 (a multiple of 8 rows, zero-padded by the
// caller). Packed W: 16-column tiles of kp/2 k-pairs, [tile][kp/2][16][2], zero past N and K.

/// Whether the CPU runs the bf16 GEMM (AVX512-BF16).
int tk_bf16_gemm_supported(void);
/// Rounds `rows` rows of A (leading dimension lda, K columns) to bf16 into dst (stride kp, zero past K).
void tk_bf16_pack_a(const float *a, size_t lda, size_t rows, size_t k, size_t kp, uint16_t *dst);
/// Packs the 16-column tile n0 ..< n0+16 of a K x N float32 matrix B (leading dimension ldb; e.g.
/// attention's values) into dst (16·kp values), rounded to bf16, zero past n and K. AVX512-BF16 only.
void tk_bf16_pack_b_kn(const float *b, size_t ldb, size_t n0, size_t n, size_t k, size_t kp, uint16_t *dst);
/// Packs the 16-column tile of W rows n0 ..< n0+16 (rows >= n are zero) into dst (16·kp values);
/// W is bf16 bits, or f32 rounded to bf16 when w_is_f32.
void tk_bf16_pack_b(const void *w, int w_is_f32, size_t ldw, size_t n0, size_t n, size_t k, size_t kp, uint16_t *dst);
/// Computes the columns of tiles tile_first ..< tile_first+tile_count for all m rows, K in blocks
/// of kc (even) elements; accumulate: add to C. Only when tk_bf16_gemm_supported(). use_amx: take
/// the AMX-BF16 tiles when tk_bf16_amx_supported() and kp, kc, mp are multiples of 32 (A padded
/// with zero rows to mp); otherwise, and for a lone last tile, the AVX512-BF16 kernel.
void tk_bf16_gemm_tiles(const uint16_t *pa, size_t mp, size_t m, size_t kp, const uint16_t *pb, size_t tile_first,
                        size_t tile_count, size_t n, float *c, size_t ldc, size_t kc, int accumulate, int use_amx);
/// bf16 convolution operands (conv_bf16.c, AVX512-BF16 only). K is ordered (tap = i·kw + j, channel
/// pair cp, e): k = (tap·c2 + cp)·2 + e with c2 = ceil(C/2); channel 2·cp + e.
/// Converts padded input rows y0 ..< y0+rows (input row = y - pad_top) of all channels of x
/// [C, H, W] into xi [c2][rows][wp][2] (padded column X = input column + pad_left; zero outside
/// the image and for the odd channel's pair).
void tk_bf16_conv_band_input(const float *x, size_t c, size_t h, size_t w, size_t pad_top, size_t pad_left,
                             size_t y0, size_t rows, size_t wp, uint16_t *xi);
/// tk_bf16_conv_band_input of x [C, h, w] seen through nearest 2x upsampling (the [C, 2h, 2w]
/// image whose value (iy, ix) is x[iy / 2][ix / 2]), without making it.
void tk_bf16_conv_band_input_up2(const float *x, size_t c, size_t h, size_t w, size_t pad_top, size_t pad_left,
                                 size_t y0, size_t rows, size_t wp, uint16_t *xi);
/// B tiles tile_first ..< tile_first+tile_count (16 output pixels each, pixel p = (p / ow, p % ow)
/// relative to the band, np pixels) from xi (whose row 0 is the band's first output row · stride),
/// [tile][kp/2][16][2], zero past np and past kh·kw·c2 pairs.
void tk_bf16_conv_pack_tiles(const uint16_t *xi, size_t c2, size_t rows, size_t wp, size_t kh, size_t kw,
                             size_t stride, size_t ow, size_t np, size_t kp, size_t tile_first, size_t tile_count,
                             uint16_t *pb);
/// The weight [O, C, kh, kw] (bf16 bits, or f32 rounded when w_is_f32) as packed A rows of kp in
/// that K order (zero for the odd channel's pair and past K).
void tk_bf16_conv_pack_weight(const void *w, int w_is_f32, size_t o, size_t c, size_t taps, size_t kp, uint16_t *dst);
/// Whether the CPU has AMX-TILE + AMX-BF16 and the OS granted this process the tile state
/// (Linux: asked once with arch_prctl(ARCH_REQ_XCOMP_PERM)).
int tk_bf16_amx_supported(void);


// ---------------------------------------------------------------------------------------------
// MLX affine quantization and the integer GEMM of quantized weights (quant.c)

/// Quantizes one row of K float32 weights in groups of `group` as MLX's affine mode does on its CPU
/// backend (float32, ties rounded to even): packed (K·bits/32 words, a little-endian bit stream of codes),
/// scales and biases (K/group each, unrounded float32).
void tk_affine_quantize_row(const float *w, size_t k, int bits, size_t group, uint32_t *packed, float *scales,
                            float *biases);
/// Codes first ..< first+count of one packed row.
void tk_affine_unpack_codes(const uint32_t *packed, size_t first, size_t count, int bits, uint8_t *codes);

/// The integer kernels of the quantized GEMM.
typedef enum {
    TK_Q8_SCALAR = 0,
    /// vpmaddubsw + vpmaddwd (AVX2 + FMA); 7-8-bit codes split into nibbles (no 16-bit saturation).
    TK_Q8_AVX2 = 1,
    /// vpdpbusd on u8 codes x s8 activations (AVX512-VNNI).
    TK_Q8_AVX512VNNI = 2,
} tk_q8_path;

int tk_q8_path_supported(tk_q8_path path);
/// Activations to symmetric int8 per row and group: q (rows x k), scales and sums (rows x k/group);
/// AVX-512 with the AVX512-VNNI path, C otherwise (the same values: ties to even either way).
void tk_q8_quantize_rows(tk_q8_path path, const float *x, size_t ldx, size_t rows, size_t k, size_t group, int8_t *q,
                         float *scales, int32_t *sums);
/// Packs the 16 columns n0 ..< n0+16 (zero past n) of packed weights (rows `words_per_row` uint32
/// apart; the first k codes of each row from `packed`) into 16·k bytes of codes, quads
/// [k/4][16][4] (every kernel path reads this layout), with their scales/biases (scale_dtype 0
/// float32, 1 bfloat16, 2 float16; rows `groups_per_row` apart, k/group of them from `scales`).
void tk_q8_pack_tile(const uint32_t *packed, size_t words_per_row, int bits, const void *scales,
                     const void *biases, int scale_dtype, size_t n0, size_t n, size_t k, size_t group, size_t groups_per_row,
                     void *codes, float *tile_scales, float *tile_biases);
/// C[m, cols] (=|+=) for `tiles` consecutive packed tiles (codes, and [groups][16] scales/biases per
/// tile) of `bits`-bit codes.
void tk_q8_gemm_tiles(tk_q8_path path, const int8_t *qa, const float *sa, const int32_t *suma, size_t m, size_t k,
                      size_t group, int bits, const void *codes, const float *sw, const float *bw, size_t tiles,
                      size_t cols, float *c, size_t ldc, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
