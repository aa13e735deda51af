import CTensorKernels

/// Element-wise binary operations with broadcasting.
public enum BinaryOp: Sendable {
    /// `a + b`, `a - b`, `a * b`, `a / b`.
    case add, sub, mul, div
}

extension ComputeContext {
    /// `a op b` with numpy broadcasting; both float (converted to float32). Returns float32 of
    /// the broadcast shape.
    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let outShape = Broadcast.shape(a.shape, b.shape) else {
            preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let af = a.toFloat32(context: self), bf = b.toFloat32(context: self)
        var out = Tensor(uninitialized: outShape, dtype: .float32)
        let op_ = UncheckedSendable(out.mutableFloatPointer())
        let path = kernelPath.cValue
        withExtendedLifetime((af, bf)) {
            let ap = UncheckedSendable(af.floatPointer), bp = UncheckedSendable(bf.floatPointer)
            let inner = outShape.last ?? 1
            let rows = inner == 0 ? 0 : out.count / inner
            let sa = Broadcast.strides(of: af.shape, in: outShape)
            let sb = Broadcast.strides(of: bf.shape, in: outShape)
            let ia = sa.last ?? 0, ib = sb.last ?? 0
            parallelChunks(rows) { _, range in
                for row in range {
                    // Offsets of this row in a and b.
                    var rem = row, oa = 0, ob = 0
                    for d in stride(from: outShape.count - 2, through: 0, by: -1) {
                        let idx = rem % outShape[d]
                        rem /= outShape[d]
                        oa += idx * sa[d]
                        ob += idx * sb[d]
                    }
                    let x = ap.value + oa, y = bp.value + ob, o = op_.value + row * inner
                    if ia == 1 && ib == 1 && (op == .add || op == .mul) {
                        if op == .add { tk_add(path, x, y, o, inner) } else { tk_mul(path, x, y, o, inner) }
                        continue
                    }
                    for i in 0..<inner {
                        let u = x[i * ia], v = y[i * ib]
                        switch op {
                        case .add: o[i] = u + v
                        case .sub: o[i] = u - v
                        case .mul: o[i] = u * v
                        case .div: o[i] = u / v
                        }
                    }
                }
            }
        }
        return out
    }

    /// `a + b` with broadcasting (float32 result).
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.add, a, b) }
    /// `a - b` with broadcasting (float32 result).
    public func sub(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.sub, a, b) }
    /// `a * b` with broadcasting (float32 result).
    public func mul(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.mul, a, b) }
    /// `a / b` with broadcasting (float32 result).
    public func div(_ a: Tensor, _ b: Tensor) -> Tensor { binary(.div, a, b) }

    /// Applies a C unary kernel over chunks in parallel.
    func unary(_ x: Tensor, _ kernel: @escaping @Sendable (tk_kernel_path, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let xf = x.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let path = kernelPath.cValue
        let n = xf.count
        withExtendedLifetime(xf) {
            let xp = UncheckedSendable(xf.floatPointer)
            let chunk = 1 << 14
            parallelFor((n + chunk - 1) / chunk) { c in
                let lo = c * chunk
                kernel(path, xp.value + lo, op.value + lo, min(chunk, n - lo))
            }
        }
        return out
    }

    /// `x · sigmoid(x)` element-wise. Shape preserved, float32 result.
    public func silu(_ x: Tensor) -> Tensor { unary(x) { tk_silu($0, $1, $2, $3) } }
    /// `tanh(x)` element-wise. Shape preserved, float32 result.
    public func tanh(_ x: Tensor) -> Tensor { unary(x) { tk_tanh($0, $1, $2, $3) } }
    /// `exp(x)` element-wise. Shape preserved, float32 result.
    public func exp(_ x: Tensor) -> Tensor { unary(x) { tk_exp($0, $1, $2, $3) } }

    /// `x · s + t` element-wise with scalars s, t (two roundings, as PyTorch's `x * s + t`).
    public func scaleShift(_ x: Tensor, scale s: Float, shift t: Float) -> Tensor {
        unary(x) { tk_scale_shift($0, $1, s, t, $2, $3) }
    }

    /// `x + s · d` element-wise with scalar `s`, rounded twice as PyTorch's `x + s * d` (no fused
    /// multiply-add); `x` and `d` have equal shapes. The flow-match Euler step.
    public func addScaled(_ x: Tensor, _ d: Tensor, scale s: Float) -> Tensor {
        pairwise(x, d, "addScaled") { tk_axpy_nofma($0, $1, s, $2, $3, $4) }
    }

    /// `silu(a) · b` element-wise (SwiGLU); `a` and `b` have equal shapes.
    public func siluMul(_ a: Tensor, _ b: Tensor) -> Tensor {
        pairwise(a, b, "siluMul") { tk_silu_mul($0, $1, $2, $3, $4) }
    }

    /// Applies a C kernel of two equal-shape inputs over chunks in parallel.
    func pairwise(_ a: Tensor, _ b: Tensor, _ name: String,
                  _ kernel: @escaping @Sendable (tk_kernel_path, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        precondition(a.shape == b.shape, "\(name) shapes differ: \(a.shape) and \(b.shape)")
        let af = a.toFloat32(context: self), bf = b.toFloat32(context: self)
        var out = Tensor(uninitialized: a.shape, dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let path = kernelPath.cValue
        let n = a.count
        withExtendedLifetime((af, bf)) {
            let ap = UncheckedSendable(af.floatPointer), bp = UncheckedSendable(bf.floatPointer)
            let chunk = 1 << 14
            parallelFor((n + chunk - 1) / chunk) { c in
                let lo = c * chunk
                kernel(path, ap.value + lo, bp.value + lo, op.value + lo, min(chunk, n - lo))
            }
        }
        return out
    }

    /// Softmax over the last dimension. Rows whose entries are all -inf give zeros.
    public func softmax(_ x: Tensor) -> Tensor {
        rowwise(x) { path, src, dst, rows, cols in tk_softmax_rows(path, src, dst, rows, cols) }
    }

    /// Applies a row kernel over the rows of the last dimension in parallel.
    func rowwise(_ x: Tensor, _ kernel: (tk_kernel_path, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> Tensor {
        let xf = x.toFloat32(context: self)
        let cols = x.shape.last ?? 1
        let rows = cols == 0 ? 0 : x.count / cols
        var out = Tensor(uninitialized: x.shape, dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let path = kernelPath.cValue
        withExtendedLifetime(xf) {
            let xp = UncheckedSendable(xf.floatPointer)
            parallelChunks(rows) { _, r in
                kernel(path, xp.value + r.lowerBound * cols, op.value + r.lowerBound * cols, r.count, cols)
            }
        }
        return out
    }
}
