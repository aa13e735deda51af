// Shared by the bf16 kernels (gemm_bf16.c, conv_bf16.c); not part of the public header.
#ifndef TK_BF16_INTERNAL_H
#define TK_BF16_INTERNAL_H
#include <stdint.h>
#include <string.h>

#define TK_BF16_ATTR __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// f32 -> bf16 bits, round to nearest even (vcvtneps2bf16's result for every normal value,
// infinity and NaN); NaN stays NaN (quieted).
static inline uint16_t tk_f32_to_bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
#endif
