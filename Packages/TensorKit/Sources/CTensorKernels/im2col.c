// im2col for a band of output rows (memory movement only; see CTensorKernels.h).
#include "CTensorKernels.h"
#include <string.h>

// The input seen through nearest `up`x upsampling (up = 1: as it is): value (iy, ix) of the
// up·height x up·width image is x[iy / up][ix / up].
static void im2col(const float *x, size_t channels, size_t height, size_t width, size_t up, size_t kh, size_t kw,
                   size_t stride, size_t padTop, size_t padLeft, size_t outW, size_t oy0, size_t rows, float *col) {
    const size_t plane = rows * outW;
    const long uh = (long)(up * height), uw = (long)(up * width);
    for (size_t c = 0; c < channels; c++) {
        const float *xc = x + c * height * width;
        for (size_t i = 0; i < kh; i++) {
            for (size_t j = 0; j < kw; j++) {
                float *dst = col + ((c * kh + i) * kw + j) * plane;
                for (size_t r = 0; r < rows; r++) {
                    float *d = dst + r * outW;
                    long iy = (long)((oy0 + r) * stride + i) - (long)padTop;
                    if (iy < 0 || iy >= uh) {
                        memset(d, 0, outW * sizeof(float));
                        continue;
                    }
                    const float *srow = xc + (size_t)iy / up * width;
                    if (stride == 1 && up == 1) {
                        // columns ox with 0 <= ox + j - padLeft < width
                        long off = (long)j - (long)padLeft;
                        long lo = off < 0 ? -off : 0;
                        long hi = (long)width - off;
                        if (hi > (long)outW) hi = (long)outW;
                        if (lo > (long)outW) lo = (long)outW;
                        if (hi < lo) hi = lo;
                        if (lo > 0) memset(d, 0, (size_t)lo * sizeof(float));
                        if (hi > lo) memcpy(d + lo, srow + lo + off, (size_t)(hi - lo) * sizeof(float));
                        if ((long)outW > hi) memset(d + hi, 0, (size_t)((long)outW - hi) * sizeof(float));
                    } else {
                        for (size_t ox = 0; ox < outW; ox++) {
                            long ix = (long)(ox * stride + j) - (long)padLeft;
                            d[ox] = (ix < 0 || ix >= uw) ? 0.0f : srow[(size_t)ix / up];
                        }
                    }
                }
            }
        }
    }
}

void tk_im2col_band(const float *x, size_t channels, size_t height, size_t width, size_t kh,
                    size_t kw, size_t stride, size_t padTop, size_t padLeft, size_t outW,
                    size_t oy0, size_t rows, float *col) {
    im2col(x, channels, height, width, 1, kh, kw, stride, padTop, padLeft, outW, oy0, rows, col);
}

void tk_im2col_band_up2(const float *x, size_t channels, size_t height, size_t width, size_t kh, size_t kw,
                        size_t padTop, size_t padLeft, size_t outW, size_t oy0, size_t rows, float *col) {
    im2col(x, channels, height, width, 2, kh, kw, 1, padTop, padLeft, outW, oy0, rows, col);
}
