import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// `y = x · Wᵀ + bias` with W a ``QuantizedMatrix``, on integer dot products: x is quantized
    /// per row and per group of the weight's `groupSize` to symmetric int8 (scale max|x|/127),
    /// each group's codes × activations summed exactly in 32-bit integers and rescaled by the
    /// activation and weight scales (plus the weight bias times the activation sum). Weight codes
    /// are unpacked one 16-column tile at a time (no float copy of the weight).
    ///
    /// - x: `[..., K]` (any float dtype); weight: `[N, K]`; bias: `[N]` or nil.
    /// - path: the integer kernels (default: the fastest this CPU runs; tests pin each one).
    /// - Returns: `[..., N]` float32.
    public func quantizedLinear(_ x: Tensor, weight: QuantizedMatrix, bias: Tensor? = nil, path: QuantKernelPath? = nil) -> Tensor {
        let n = weight.rows, k = weight.columns, group = weight.groupSize
        precondition(x.rank >= 1 && x.shape.last == k, "quantized linear input \(x.shape) does not end in K=\(k)")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        let kernels = path ?? .best
        precondition(kernels.isSupported, "quantized kernel path \(kernels) is not supported by this CPU")
        let m = x.count / max(k, 1), groups = k / group
        var outShape = x.shape
        outShape[outShape.count - 1] = n
        var y = Tensor(uninitialized: outShape, dtype: .float32)
        let yp = UncheckedSendable(y.mutableFloatPointer())
        if let bias {
            let b = bias.toFloat32(context: self)
            for i in 0..<m { memcpy(yp.value + i * n, b.floatPointer, n * 4) }
            withExtendedLifetime(b) {}
        }
        if m == 0 || n == 0 { return y }
        let xf = x.toFloat32(context: self)
        let qa = workspaces.take(Int8.self, m * k), sa = workspaces.take(Float.self, m * groups)
        let suma = workspaces.take(Int32.self, m * groups)
        defer { workspaces.give(qa, m * k); workspaces.give(sa, m * groups); workspaces.give(suma, m * groups) }
        let qaBox = UncheckedSendable(qa), saBox = UncheckedSendable(sa), sumBox = UncheckedSendable(suma)
        withExtendedLifetime(xf) {
            let xp = UncheckedSendable(xf.floatPointer)
            parallelChunks(m) { _, r in
                tk_q8_quantize_rows(xp.value + r.lowerBound * k, k, r.count, k, group, qaBox.value + r.lowerBound * k,
                                    saBox.value + r.lowerBound * groups, sumBox.value + r.lowerBound * groups)
            }
        }
        let tiles = (n + 15) / 16
        let codeBytes = tk_q8_tile_code_bytes(kernels.cValue, k)
        let scaleDType: Int32 = weight.scales.dtype == .float32 ? 0 : (weight.scales.dtype == .bfloat16 ? 1 : 2)
        let words = weight.packed.shape[1], bits = Int32(weight.bits), accumulate: Int32 = bias == nil ? 0 : 1
        withExtendedLifetime(weight) {
            let pp = UncheckedSendable(weight.packed.rawPointer.assumingMemoryBound(to: UInt32.self))
            let sp = UncheckedSendable(weight.scales.rawPointer), bp = UncheckedSendable(weight.biases.rawPointer)
            // Workers take pairs of tiles (the VNNI kernel's 32 columns); each pair is unpacked once
            // and multiplied with every row.
            parallelChunks((tiles + 1) / 2) { _, range in
                let codes = workspaces.take(UInt8.self, 2 * codeBytes)
                let ts = workspaces.take(Float.self, 2 * groups * 16), tb = workspaces.take(Float.self, 2 * groups * 16)
                defer { workspaces.give(codes, 2 * codeBytes); workspaces.give(ts, 2 * groups * 16); workspaces.give(tb, 2 * groups * 16) }
                for pair in range {
                    let t0 = pair * 2, count = min(2, tiles - t0)
                    for i in 0..<count {
                        tk_q8_pack_tile(kernels.cValue, pp.value, words, bits, sp.value, bp.value, scaleDType, (t0 + i) * 16, n, k, group,
                                        codes + i * codeBytes, ts + i * groups * 16, tb + i * groups * 16)
                    }
                    tk_q8_gemm_tiles(kernels.cValue, qaBox.value, saBox.value, sumBox.value, m, k, group, bits, codes, ts, tb, count,
                                     min(16 * count, n - t0 * 16), yp.value + t0 * 16, n, accumulate)
                }
            }
        }
        return y
    }
}
