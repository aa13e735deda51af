// Scalar (one lane) build of kernels_impl.h: runs on any x86-64 (and any other) CPU.
#define TK_W 1
#define TK_SFX scalar
#define TK_ATTR
#include "kernels_impl.h"
