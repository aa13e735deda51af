// Loads OpenBLAS with dlopen after OPENBLAS_CORETYPE has been chosen.
#define _GNU_SOURCE
//
// OpenBLAS reads OPENBLAS_CORETYPE once, in its library constructor. Linking it would run that
// constructor before main (and before any Swift code could choose), so TensorKit never links
// it: the first use loads it here. The declarations below are the LP64 CBLAS ABI
// (blasint = int32), checked against the library's build configuration at load time.
#include "CTensorKernels.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef char *(*str_fn)(void);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static struct {
    pthread_once_t once;
    int status;
    int already_loaded;
    char err[512];
    char coretype[64];
    void *handle;
    sgemm_fn sgemm;
    str_fn corename;
    str_fn config;
    set_threads_fn set_threads;
    get_threads_fn get_threads;
    void *sbgemm;
    char path[1024];
} tk_blas = {PTHREAD_ONCE_INIT, -1, 0, {0}, {0}, 0, 0, 0, 0, 0, 0, 0, {0}};

static const char *const tk_blas_names[] = {"libopenblas.so.0", "libopenblas.so",
                                            "libopenblasp.so.0", "libopenblas.dylib"};

static void tk_blas_do_load(void) {
    // Already in the process (linked by the host program, or loaded by someone else)?
    for (size_t i = 0; i < sizeof(tk_blas_names) / sizeof(tk_blas_names[0]); i++) {
        void *h = dlopen(tk_blas_names[i], RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
        if (h) {
            tk_blas.handle = h;
            tk_blas.already_loaded = 1;
            break;
        }
    }
    if (!tk_blas.handle) {
        const char *user = getenv("OPENBLAS_CORETYPE");
        if ((user == NULL || user[0] == 0) && tk_blas.coretype[0] != 0) {
            setenv("OPENBLAS_CORETYPE", tk_blas.coretype, 1);
        }
        for (size_t i = 0; i < sizeof(tk_blas_names) / sizeof(tk_blas_names[0]); i++) {
            tk_blas.handle = dlopen(tk_blas_names[i], RTLD_NOW | RTLD_GLOBAL);
            if (tk_blas.handle) break;
        }
    }
    if (!tk_blas.handle) {
        snprintf(tk_blas.err, sizeof tk_blas.err,
                 "OpenBLAS not found (%s); install it (Debian: apt-get install libopenblas-dev)",
                 dlerror());
        tk_blas.status = 1;
        return;
    }
    tk_blas.sgemm = (sgemm_fn)dlsym(tk_blas.handle, "cblas_sgemm");
    tk_blas.corename = (str_fn)dlsym(tk_blas.handle, "openblas_get_corename");
    tk_blas.config = (str_fn)dlsym(tk_blas.handle, "openblas_get_config");
    tk_blas.set_threads = (set_threads_fn)dlsym(tk_blas.handle, "openblas_set_num_threads");
    tk_blas.get_threads = (get_threads_fn)dlsym(tk_blas.handle, "openblas_get_num_threads");
    tk_blas.sbgemm = dlsym(tk_blas.handle, "cblas_sbgemm");
    if (!tk_blas.sgemm || !tk_blas.corename || !tk_blas.set_threads || !tk_blas.get_threads) {
        snprintf(tk_blas.err, sizeof tk_blas.err,
                 "the loaded BLAS is not OpenBLAS (cblas_sgemm/openblas_get_corename missing)");
        tk_blas.status = 2;
        return;
    }
    if (tk_blas.config) {
        const char *cfg = tk_blas.config();
        if (cfg && strstr(cfg, "USE64BITINT")) {
            snprintf(tk_blas.err, sizeof tk_blas.err,
                     "the loaded OpenBLAS uses 64-bit integers (ILP64); TensorKit needs the LP64 "
                     "build (Debian: libopenblas-dev, not libopenblas64-dev)");
            tk_blas.status = 3;
            return;
        }
    }
    Dl_info info;
    if (dladdr((void *)tk_blas.sgemm, &info) && info.dli_fname) {
        snprintf(tk_blas.path, sizeof tk_blas.path, "%s", info.dli_fname);
    }
    tk_blas.status = 0;
}

int tk_blas_load(const char *coretype, int *already_loaded, char *err, size_t errlen) {
    // The first caller's coretype wins; pthread_once makes this safe from any thread.
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    if (tk_blas.status < 0 && tk_blas.coretype[0] == 0 && coretype) {
        snprintf(tk_blas.coretype, sizeof tk_blas.coretype, "%s", coretype);
    }
    pthread_mutex_unlock(&mu);
    pthread_once(&tk_blas.once, tk_blas_do_load);
    if (already_loaded) *already_loaded = tk_blas.already_loaded;
    if (tk_blas.status != 0 && err && errlen) snprintf(err, errlen, "%s", tk_blas.err);
    return tk_blas.status;
}

const char *tk_blas_corename(void) {
    if (tk_blas.status != 0) return "";
    const char *s = tk_blas.corename();
    return s ? s : "";
}

const char *tk_blas_config(void) {
    if (tk_blas.status != 0 || !tk_blas.config) return "";
    const char *s = tk_blas.config();
    return s ? s : "";
}

const char *tk_blas_path(void) { return tk_blas.status == 0 ? tk_blas.path : ""; }

void tk_blas_set_num_threads(int n) {
    if (tk_blas.status == 0) tk_blas.set_threads(n);
}

int tk_blas_get_num_threads(void) { return tk_blas.status == 0 ? tk_blas.get_threads() : 0; }

int tk_blas_has_sbgemm(void) { return tk_blas.status == 0 && tk_blas.sbgemm != NULL; }

void tk_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
    // CBLAS enum values: CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
    tk_blas.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, M, N, K, alpha, A, lda, B, ldb,
                  beta, C, ldc);
}
