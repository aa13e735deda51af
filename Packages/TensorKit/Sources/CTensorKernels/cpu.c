// CPU feature detection with cpuid and xgetbv.
#include "CTensorKernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t tk_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static uint32_t tk_cpu_features_uncached(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1;
    const int avx = (c >> 28) & 1;
    const int fma = (c >> 12) & 1;
    const int f16c = (c >> 29) & 1;
    uint64_t xcr0 = osxsave ? tk_xgetbv0() : 0;
    const int os_avx = osxsave && avx && ((xcr0 & 0x6) == 0x6);
    const int os_avx512 = os_avx && ((xcr0 & 0xE0) == 0xE0);
    if (os_avx) f |= TK_CPU_OS_AVX;
    if (os_avx512) f |= TK_CPU_OS_AVX512;
    if (os_avx && fma) f |= TK_CPU_FMA;
    if (os_avx && f16c) f |= TK_CPU_F16C;
    unsigned maxleaf = __get_cpuid_max(0, 0);
    if (maxleaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (os_avx && ((b >> 5) & 1)) f |= TK_CPU_AVX2;
        if (os_avx512) {
            if ((b >> 16) & 1) f |= TK_CPU_AVX512F;
            if ((b >> 17) & 1) f |= TK_CPU_AVX512DQ;
            if ((b >> 30) & 1) f |= TK_CPU_AVX512BW;
            if ((b >> 31) & 1) f |= TK_CPU_AVX512VL;
            if ((c >> 11) & 1) f |= TK_CPU_AVX512VNNI;
            if ((d >> 23) & 1) f |= TK_CPU_AVX512FP16;
        }
        if ((d >> 24) & 1) f |= TK_CPU_AMX;
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        if (os_avx512 && ((a1 >> 5) & 1)) f |= TK_CPU_AVX512BF16;
        (void)b1; (void)c1; (void)d1;
    }
    return f;
}

uint32_t tk_cpu_features(void) {
    // cpuid can trap to the hypervisor (microseconds): compute once. The computation is
    // idempotent, so a benign race only repeats it.
    static uint32_t cached = 0;  // bit 31 marks "computed"
    uint32_t v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v & 0x80000000u) return v & 0x7fffffffu;
    v = tk_cpu_features_uncached();
    __atomic_store_n(&cached, v | 0x80000000u, __ATOMIC_RELAXED);
    return v;
}

void tk_cpu_vendor(char *out) {
    unsigned a, b, c, d;
    memset(out, 0, 13);
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    memcpy(out, &b, 4);
    memcpy(out + 4, &d, 4);
    memcpy(out + 8, &c, 4);
}
#else
uint32_t tk_cpu_features(void) { return 0; }
void tk_cpu_vendor(char *out) { memset(out, 0, 13); }
#endif

int tk_path_supported(tk_kernel_path path) {
    uint32_t f = tk_cpu_features();
    switch (path) {
    case TK_PATH_SCALAR: return 1;
    case TK_PATH_AVX2: return (f & TK_CPU_AVX2) && (f & TK_CPU_FMA) && (f & TK_CPU_F16C);
    case TK_PATH_AVX512: {
        uint32_t need = TK_CPU_AVX512F | TK_CPU_AVX512BW | TK_CPU_AVX512DQ | TK_CPU_AVX512VL |
                        TK_CPU_FMA | TK_CPU_F16C | TK_CPU_AVX2;
        return (f & need) == need;
    }
    }
    return 0;
}
