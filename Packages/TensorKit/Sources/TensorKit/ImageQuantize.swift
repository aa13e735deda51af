extension ComputeContext {
    /// Pixels from a decoded image in [-1, 1], as diffusers' `VaeImageProcessor` post-processes
    /// it: `clamp(x / 2 + 0.5, 0, 1) · 255`, rounded half to even, in float32, to uint8.
    /// `x` is any shape (e.g. `[3, H, W]`); returns the same shape as uint8.
    public func imageToUInt8(_ x: Tensor) -> Tensor {
        let f = x.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .uint8)
        let n = x.count
        f.withUnsafeBufferPointer(as: Float.self) { src in
            out.withUnsafeMutableBufferPointer(as: UInt8.self) { dst in
                for i in 0..<n {
                    var v = src[i] / 2 + 0.5
                    v = v.isNaN ? 0 : Swift.min(Swift.max(v, 0), 1)
                    dst[i] = UInt8((v * 255).rounded(.toNearestOrEven))
                }
            }
        }
        return out
    }

    /// `clamp(x, lo, hi)` rounded half to even to uint8 (NaN becomes `lo`). `lo`, `hi` in 0...255.
    public func clampRoundToUInt8(_ x: Tensor, lo: Float = 0, hi: Float = 255) -> Tensor {
        let f = x.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .uint8)
        let n = x.count
        f.withUnsafeBufferPointer(as: Float.self) { src in
            out.withUnsafeMutableBufferPointer(as: UInt8.self) { dst in
                for i in 0..<n {
                    let v = src[i].isNaN ? lo : Swift.min(Swift.max(src[i], lo), hi)
                    dst[i] = UInt8(v.rounded(.toNearestOrEven))
                }
            }
        }
        return out
    }
}
