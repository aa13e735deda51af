// AVX-512 (F, BW, DQ, VL) build of kernels_impl.h (16 lanes), selected at run time.
#if defined(__x86_64__)
#define TK_W 16
#define TK_SFX avx512
#define TK_ATTR __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#include "kernels_impl.h"
#endif
