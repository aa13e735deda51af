extension ComputeContext {
    /// Pixels from a decoded image in [-1, 1], as diffusers' `VaeImageProcessor` post-processes
    /// it: `clamp(x / 2 + 0.5, 0, 1) · 255`, rounded half to even, in float32, to uint8.
    /// `x` is any shape (e.g. `[3, H, W]`); returns the same shape as uint8 (NaN becomes 0).
    public func imageToUInt8(_ x: Tensor) -> Tensor {
        quantize(x) { v in Swift.min(Swift.max(v / 2 + 0.5, 0), 1) * 255 }
    }

    /// `clamp(x, lo, hi)` rounded half to even to uint8 (NaN becomes `lo`). `lo`, `hi` in 0...255.
    public func clampRoundToUInt8(_ x: Tensor, lo: Float = 0, hi: Float = 255) -> Tensor {
        quantize(x) { v in Swift.min(Swift.max(v, lo), hi) }
    }

    /// `round_half_even(f(x))` to uint8 element-wise; `f` must map into 0...255 (NaN gives 0).
    private func quantize(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let src = x.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .uint8)
        src.withUnsafeBufferPointer(as: Float.self) { s in
            out.withUnsafeMutableBufferPointer(as: UInt8.self) { d in
                for i in 0..<s.count {
                    let v = f(s[i])
                    d[i] = v.isNaN ? 0 : UInt8(v.rounded(.toNearestOrEven))
                }
            }
        }
        return out
    }
}
