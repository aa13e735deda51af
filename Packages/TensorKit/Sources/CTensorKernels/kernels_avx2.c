// AVX2 + FMA + F16C build of kernels_impl.h (8 lanes), selected at run time.
#if defined(__x86_64__)
#define TK_W 8
#define TK_SFX avx2
#define TK_ATTR __attribute__((target("avx2,fma,f16c")))
#include "kernels_impl.h"
#endif
