import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// Converts `n` elements of a float dtype (f32, bf16 or f16) at `src` to float32 at `dst`
    /// (exact), on the calling thread.
    public func convertToFloat32(_ src: UnsafeRawPointer, dtype: DType, count n: Int, into dst: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .float32: memcpy(dst, src, n * 4)
        case .bfloat16: tk_bf16_to_f32(kernelPath.cValue, src.assumingMemoryBound(to: UInt16.self), dst, n)
        case .float16: tk_f16_to_f32(kernelPath.cValue, src.assumingMemoryBound(to: UInt16.self), dst, n)
        default: preconditionFailure("cannot convert \(dtype) to float32")
        }
    }

    /// Converts `n` float32 values to `dtype` (f32, bf16 or f16; round to nearest even).
    public func convertFromFloat32(_ src: UnsafePointer<Float>, count n: Int, to dtype: DType, into dst: UnsafeMutableRawPointer) {
        switch dtype {
        case .float32: memcpy(dst, src, n * 4)
        case .bfloat16: tk_f32_to_bf16(kernelPath.cValue, src, dst.assumingMemoryBound(to: UInt16.self), n)
        case .float16: tk_f32_to_f16(kernelPath.cValue, src, dst.assumingMemoryBound(to: UInt16.self), n)
        default: preconditionFailure("cannot convert float32 to \(dtype)")
        }
    }
}

extension Tensor {
    /// This tensor as float32 (f32, bf16, f16 or integer dtypes; exact for the float ones).
    /// A float32 tensor is returned as is (shared storage, no copy).
    public func toFloat32(context: ComputeContext) -> Tensor {
        if dtype == .float32 { return self }
        var out = Tensor(uninitialized: shape, dtype: .float32)
        let n = count
        let dst = out.mutableFloatPointer()
        switch dtype {
        case .bfloat16, .float16:
            let src = rawPointer
            let esize = dtype.byteSize
            let dt = dtype
            let chunk = 1 << 16
            context.parallelFor((n + chunk - 1) / chunk) { c in
                let lo = c * chunk, len = min(chunk, n - lo)
                context.convertToFloat32(src + lo * esize, dtype: dt, count: len, into: dst + lo)
            }
        case .float64: withUnsafeBufferPointer(as: Double.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .int64: withUnsafeBufferPointer(as: Int64.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .int32: withUnsafeBufferPointer(as: Int32.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .int16: withUnsafeBufferPointer(as: Int16.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .int8: withUnsafeBufferPointer(as: Int8.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .uint64: withUnsafeBufferPointer(as: UInt64.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .uint32: withUnsafeBufferPointer(as: UInt32.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .uint16: withUnsafeBufferPointer(as: UInt16.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .uint8, .bool: withUnsafeBufferPointer(as: UInt8.self) { for i in 0..<n { dst[i] = Float($0[i]) } }
        case .float8E4M3, .float8E5M2, .float8E4M3FNUZ, .float8E5M2FNUZ, .float8E8M0, .complex64:
            preconditionFailure("\(dtype) to float32 conversion is not implemented")
        case .float32: break
        }
        return out
    }

    /// This float32 / bf16 / f16 tensor converted to `target` (f32, bf16 or f16), rounding to
    /// nearest even.
    public func converted(to target: DType, context: ComputeContext) -> Tensor {
        if target == dtype { return self }
        precondition(target.isComputeFloat && dtype.isComputeFloat, "cannot convert \(dtype) to \(target)")
        let f = toFloat32(context: context)
        if target == .float32 { return f }
        var out = Tensor(uninitialized: shape, dtype: target)
        let n = count
        withExtendedLifetime(f) {
            let src = f.floatPointer
            out.withUnsafeMutableBytes { dst in
                context.convertFromFloat32(src, count: n, to: target, into: dst.baseAddress!)
            }
        }
        return out
    }

    /// The elements as float32 values (f32, bf16, f16 or integer dtypes).
    public func floats(context: ComputeContext) -> [Float] {
        let f = toFloat32(context: context)
        return f.withUnsafeBufferPointer(as: Float.self) { Array($0) }
    }
}
