/// Summary statistics of a tensor's values.
public struct TensorStatistics: Sendable, Equatable {
    /// Smallest value (NaN ignored; nil for an empty or all-NaN tensor).
    public let min: Double?
    /// Largest value.
    public let max: Double?
    /// Mean of the finite values.
    public let mean: Double?
    /// Population standard deviation of the finite values.
    public let std: Double?
    /// Number of NaN values.
    public let nanCount: Int
    /// Number of ±inf values.
    public let infCount: Int
}

extension ComputeContext {
    /// Min, max, mean and standard deviation of a float or integer tensor, read in chunks
    /// (bf16/f16 upcast chunk by chunk; no full float32 copy). Accumulates in Double.
    /// Returns nil for dtypes TensorKit cannot convert (float8, complex).
    public func statistics(_ t: Tensor) -> TensorStatistics? {
        let n = t.count
        var lo = Double.infinity, hi = -Double.infinity
        // Welford's running mean and sum of squared deviations (stable for large means).
        var mean = 0.0, m2 = 0.0, finite = 0, nans = 0, infs = 0
        func add(_ v: Double) {
            if v.isNaN { nans += 1; return }
            if v < lo { lo = v }
            if v > hi { hi = v }
            if v.isInfinite { infs += 1; return }
            finite += 1
            let d = v - mean
            mean += d / Double(finite)
            m2 += d * (v - mean)
        }
        switch t.dtype {
        case .float32, .bfloat16, .float16:
            let chunk = 1 << 16
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
            defer { buf.deallocate() }
            var i = 0
            while i < n {
                let len = Swift.min(chunk, n - i)
                convertToFloat32(t.rawPointer + i * t.dtype.byteSize, dtype: t.dtype, count: len, into: buf)
                for j in 0..<len { add(Double(buf[j])) }
                i += len
            }
        case .float64: t.withUnsafeBufferPointer(as: Double.self) { for v in $0 { add(v) } }
        default:
            guard let ints = t.integers() else { return nil }
            for v in ints { add(Double(v)) }
        }
        let any = finite + infs > 0
        return TensorStatistics(min: any ? lo : nil, max: any ? hi : nil, mean: finite > 0 ? mean : nil,
                                std: finite > 0 ? (m2 / Double(finite)).squareRoot() : nil, nanCount: nans, infCount: infs)
    }
}
