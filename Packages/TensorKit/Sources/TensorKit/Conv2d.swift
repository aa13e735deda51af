import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// Bytes of im2col band a worker fills at a time (at least one output row).
    public static let conv2dBandBytes = 16 << 20

    /// Output rows per im2col band for a convolution with `channels` inputs, a `kh x kw` kernel
    /// and output width `outWidth`.
    public static func conv2dBandRows(channels: Int, kh: Int, kw: Int, outWidth: Int, outHeight: Int) -> Int {
        let rowBytes = max(1, channels * kh * kw * outWidth * 4)
        return max(1, min(outHeight, conv2dBandBytes / rowBytes))
    }

    /// Output rows per band of a convolution over `images` images: at most
    /// ``conv2dBandRows(channels:kh:kw:outWidth:outHeight:)``, and the bands (`images` x bands work
    /// items) a multiple of the worker count where the image has enough rows, so that no worker
    /// waits on a lone last band.
    public func conv2dBalancedRows(channels: Int, kh: Int, kw: Int, outWidth: Int, outHeight: Int, images: Int) -> Int {
        let maxRows = ComputeContext.conv2dBandRows(channels: channels, kh: kh, kw: kw, outWidth: outWidth, outHeight: outHeight)
        let workers = max(1, threadCount), count = max(1, images)
        var bands = max((outHeight + maxRows - 1) / maxRows, (workers + count - 1) / count)
        bands = ((bands * count + workers - 1) / workers * workers + count - 1) / count
        bands = min(max(1, outHeight), bands)
        return max(1, (outHeight + bands - 1) / bands)
    }

    /// Workspace bound of ``conv2d(_:weight:bias:stride:padding:)`` in bytes, independent of the
    /// image height: one im2col band per worker (`rows x outWidth x channels·kh·kw` floats, at
    /// most ``conv2dBandBytes`` unless a single output row is larger) plus a float32 copy of the
    /// weight when it is stored as bf16/f16. A 1x1 stride-1 convolution needs no im2col. With
    /// ``precision`` `.bf16` (bf16/f32 weights): the weight packed in bf16, and per worker the input
    /// rows of a band as bf16 channel pairs plus the band's packed tiles (no float32 im2col).
    public func conv2dWorkspaceBytes(channels: Int, outChannels: Int, kh: Int, kw: Int, stride: Int,
                                     outWidth: Int, outHeight: Int, weightDType: DType) -> Int {
        if precision == .bf16 && (weightDType == .bfloat16 || weightDType == .float32) {
            let c2 = (channels + 1) / 2, kp = (kh * kw * c2 * 2 + 31) / 32 * 32
            let rows = ComputeContext.conv2dBandRows(channels: channels, kh: kh, kw: kw, outWidth: outWidth, outHeight: outHeight)
            let pixels = rows * outWidth, tilesPixels = (pixels + 15) / 16 * 16
            let inRows = (rows - 1) * stride + kh, paddedWidth = outWidth * stride + kw
            return (outChannels + 31) / 32 * 32 * kp * 2 + threadCount * (c2 * inRows * paddedWidth * 4 + tilesPixels * kp * 2)
        }
        let weightBytes = weightDType == .float32 ? 0 : outChannels * channels * kh * kw * 4
        if kh == 1 && kw == 1 && stride == 1 { return weightBytes }
        let rows = ComputeContext.conv2dBandRows(channels: channels, kh: kh, kw: kw, outWidth: outWidth, outHeight: outHeight)
        return weightBytes + threadCount * rows * outWidth * channels * kh * kw * 4
    }

    /// 2-D convolution, NCHW, as `torch.nn.functional.conv2d` (cross-correlation, zero padding).
    /// - x: `[N, C, H, W]` float32 (or bf16/f16, converted).
    /// - weight: `[O, C, kh, kw]` (any float dtype); bias: `[O]` or nil.
    /// - Returns: `[N, O, (H + top + bottom - kh)/stride + 1, (W + left + right - kw)/stride + 1]`.
    ///
    /// Works over bands of output rows (im2col of a band, then one GEMM), so the workspace is
    /// bounded by ``conv2dWorkspaceBytes(channels:outChannels:kh:kw:stride:outWidth:outHeight:weightDType:)``
    /// whatever the image size.
    ///
    /// With `upsample2x` the convolution reads `x` through nearest 2x upsampling — the result of
    /// `conv2d(upsampleNearest2x(x), …)`, the same values, without making the 4x larger tensor
    /// (3x3 and larger kernels at stride 1; other shapes upsample first).
    public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Padding2d, upsample2x: Bool = false) -> Tensor {
        precondition(x.rank == 4 && weight.rank == 4, "conv2d expects [N,C,H,W] input and [O,C,kh,kw] weight, got \(x.shape), \(weight.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, wc, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        precondition(wc == c, "conv2d weight has \(wc) input channels, input has \(c)")
        precondition(stride >= 1, "conv2d stride must be >= 1")
        if let bias { precondition(bias.shape == [o], "conv2d bias \(bias.shape) is not [\(o)]") }
        if upsample2x && (stride != 1 || (kh == 1 && kw == 1)) {
            return conv2d(upsampleNearest2x(x), weight: weight, bias: bias, stride: stride, padding: padding)
        }
        let up = upsample2x ? 2 : 1
        let ph = up * h + padding.top + padding.bottom, pw = up * w + padding.left + padding.right
        precondition(ph >= kh && pw >= kw, "conv2d kernel \(kh)x\(kw) larger than padded input \(ph)x\(pw)")
        let oh = (ph - kh) / stride + 1, ow = (pw - kw) / stride + 1
        let xf = x.toFloat32(context: self)
        if precision == .bf16 && (weight.dtype == .bfloat16 || weight.dtype == .float32) {
            return conv2dBF16(xf, weight: weight, bias: bias, stride: stride, padding: padding, oh: oh, ow: ow, upsample2x: upsample2x)
        }
        let wf = weight.toFloat32(context: self)
        let bf = bias?.toFloat32(context: self)
        var out = Tensor(uninitialized: [n, o, oh, ow], dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let kdim = c * kh * kw
        let plane = oh * ow
        let blas = self.blas
        withExtendedLifetime((xf, wf, bf)) {
            let xp = UncheckedSendable(xf.floatPointer), wp = UncheckedSendable(wf.floatPointer)
            let bp = UncheckedSendable(bf?.floatPointer)
            // Output initialised with the bias (GEMM accumulates into it).
            for s in 0..<n {
                for oc in 0..<o {
                    let dst = op.value + (s * o + oc) * plane
                    if let b = bp.value {
                        let v = b[oc]
                        for i in 0..<plane { dst[i] = v }
                    } else {
                        memset(dst, 0, plane * 4)
                    }
                }
            }
            let pointwise = kh == 1 && kw == 1 && stride == 1 && padding == .symmetric(0)
            if pointwise {
                // out[s] (O x HW) += W (O x C) · x[s] (C x HW), split over column blocks.
                let units = (plane + 63) / 64
                for s in 0..<n {
                    parallelChunks(units) { _, r in
                        let j0 = r.lowerBound * 64, j1 = min(plane, r.upperBound * 64)
                        if j1 <= j0 { return }
                        blas.sgemm(transA: false, transB: false, m: o, n: j1 - j0, k: c, alpha: 1,
                                   a: wp.value, lda: c, b: xp.value + s * c * plane + j0, ldb: plane,
                                   beta: 1, c: op.value + s * o * plane + j0, ldc: plane)
                    }
                }
                return
            }
            let rows = conv2dBalancedRows(channels: c, kh: kh, kw: kw, outWidth: ow, outHeight: oh, images: n)
            let bands = (oh + rows - 1) / rows
            parallelChunks(n * bands) { _, range in
                let col = workspaces.take(Float.self, rows * ow * kdim)
                defer { workspaces.give(col, rows * ow * kdim) }
                for item in range {
                    let s = item / bands, band = item % bands
                    let oy0 = band * rows, nr = min(rows, oh - oy0)
                    if upsample2x {
                        tk_im2col_band_up2(xp.value + s * c * h * w, c, h, w, kh, kw, padding.top, padding.left, ow, oy0, nr, col)
                    } else {
                        tk_im2col_band(xp.value + s * c * h * w, c, h, w, kh, kw, stride, padding.top, padding.left,
                                       ow, oy0, nr, col)
                    }
                    blas.sgemm(transA: false, transB: false, m: o, n: nr * ow, k: kdim, alpha: 1,
                               a: wp.value, lda: kdim, b: col, ldb: nr * ow, beta: 1,
                               c: op.value + s * o * plane + oy0 * ow, ldc: plane)
                }
            }
        }
        return out
    }

    /// ``conv2d(_:weight:bias:stride:padding:)`` with bf16 products (fp32 accumulation): the weight
    /// `[O, C·kh·kw]` is the bf16 GEMM's left operand (packed once, K ordered tap by tap, channels
    /// in pairs), and per band of output rows the input rows it reads are rounded to bf16 channel
    /// pairs once, from which each 16-pixel tile of the right operand is copied (64 bytes per tap
    /// and channel pair; no float32 im2col). The products accumulate straight into the NCHW
    /// output, which holds the bias.
    func conv2dBF16(_ xf: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Padding2d, oh: Int, ow: Int,
                    upsample2x: Bool) -> Tensor {
        let (n, c, h, w) = (xf.shape[0], xf.shape[1], xf.shape[2], xf.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        // AMX tiles take 32 output channels x 32 k at a time (the weight padded with zeros to that).
        let amx = usesAMX && o >= 32
        let c2 = (c + 1) / 2, taps = kh * kw, plane = oh * ow
        let kp = amx ? (taps * c2 * 2 + 31) / 32 * 32 : taps * c2 * 2, mp = amx ? (o + 31) / 32 * 32 : (o + 7) / 8 * 8
        let pa = workspaces.take(UInt16.self, mp * kp)
        defer { workspaces.give(pa, mp * kp) }
        if mp > o { (pa + o * kp).initialize(repeating: 0, count: (mp - o) * kp) }
        withExtendedLifetime(weight) {
            tk_bf16_conv_pack_weight(weight.rawPointer, weight.dtype == .float32 ? 1 : 0, o, c, taps, kp, pa)
        }
        var out = Tensor(uninitialized: [n, o, oh, ow], dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let bf = bias?.toFloat32(context: self)
        for s in 0..<n {
            for oc in 0..<o {
                let dst = op.value + (s * o + oc) * plane
                let v = bf.map { $0.floatPointer[oc] } ?? 0
                for i in 0..<plane { dst[i] = v }
            }
        }
        let rows = conv2dBalancedRows(channels: c, kh: kh, kw: kw, outWidth: ow, outHeight: oh, images: n)
        let bands = (oh + rows - 1) / rows
        // Padded input columns the band reads (at least the padded width, so the padding is zero).
        let wp = max((upsample2x ? 2 : 1) * w + padding.left + padding.right, (ow - 1) * stride + kw)
        let paBox = UncheckedSendable(UnsafePointer(pa))
        withExtendedLifetime((xf, bf)) {
            let xp = UncheckedSendable(xf.floatPointer)
            parallelChunks(n * bands) { _, range in
                let maxIn = (rows - 1) * stride + kh, maxTiles = (rows * ow + 15) / 16
                let xi = workspaces.take(UInt16.self, c2 * maxIn * wp * 2)
                let pb = workspaces.take(UInt16.self, maxTiles * 16 * kp)
                defer { workspaces.give(xi, c2 * maxIn * wp * 2); workspaces.give(pb, maxTiles * 16 * kp) }
                for item in range {
                    let s = item / bands, band = item % bands
                    let oy0 = band * rows, nr = min(rows, oh - oy0), p = nr * ow, tiles = (p + 15) / 16
                    let inRows = (nr - 1) * stride + kh
                    if upsample2x {
                        tk_bf16_conv_band_input_up2(xp.value + s * c * h * w, c, h, w, padding.top, padding.left,
                                                    oy0 * stride, inRows, wp, xi)
                    } else {
                        tk_bf16_conv_band_input(xp.value + s * c * h * w, c, h, w, padding.top, padding.left,
                                                oy0 * stride, inRows, wp, xi)
                    }
                    tk_bf16_conv_pack_tiles(xi, c2, inRows, wp, kh, kw, stride, ow, p, kp, 0, tiles, pb)
                    tk_bf16_gemm_tiles(paBox.value, mp, o, kp, pb, 0, tiles, p, op.value + s * o * plane + oy0 * ow, plane,
                                       ComputeContext.bf16KBlock, 1, amx ? 1 : 0)
                }
            }
        }
        return out
    }

    /// Nearest-neighbour 2x upsampling of `[N, C, H, W]` to `[N, C, 2H, 2W]`
    /// (`F.interpolate(scale_factor=2, mode="nearest")`).
    public func upsampleNearest2x(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "upsample expects [N,C,H,W], got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let xf = x.toFloat32(context: self)
        var out = Tensor(uninitialized: [n, c, 2 * h, 2 * w], dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        withExtendedLifetime(xf) {
            let xp = UncheckedSendable(xf.floatPointer)
            parallelFor(n * c) { plane in
                let src = xp.value + plane * h * w, dst = op.value + plane * 4 * h * w
                for y in 0..<h {
                    let d0 = dst + (2 * y) * 2 * w
                    for xx in 0..<w {
                        let v = src[y * w + xx]
                        d0[2 * xx] = v
                        d0[2 * xx + 1] = v
                    }
                    memcpy(d0 + 2 * w, d0, 2 * w * 4)
                }
            }
        }
        return out
    }
}
