#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// `y = x · weightᵀ + bias`, as `torch.nn.functional.linear`; with ``precision`` `.bf16` the
    /// product runs on bf16 operands with float32 accumulation (``gemmBF16(m:n:k:a:lda:b:c:ldc:accumulate:)``).
    ///
    /// - x: `[..., K]` float32.
    /// - weight: `[N, K]` float32, bfloat16 or float16 (kept in its dtype; converted panel by
    ///   panel inside the GEMM).
    /// - bias: `[N]` (any float dtype) or nil.
    /// - Returns: `[..., N]` float32.
    public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2, "linear weight must be [N, K], got \(weight.shape)")
        let n = weight.shape[0], k = weight.shape[1]
        precondition(x.rank >= 1 && x.shape.last == k, "linear input \(x.shape) does not end in K=\(k) (weight \(weight.shape))")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        let m = x.count / max(k, 1)
        var outShape = x.shape
        outShape[outShape.count - 1] = n
        var y = Tensor(uninitialized: outShape, dtype: .float32)
        let yp = y.mutableFloatPointer()
        var accumulate = false
        if let bias {
            let b = bias.toFloat32(context: self)
            let bp = b.floatPointer
            for i in 0..<m { memcpy(yp + i * n, bp, n * 4) }
            accumulate = true
            withExtendedLifetime(b) {}
        }
        let xf = x.toFloat32(context: self)
        withExtendedLifetime((xf, weight)) {
            let w = GEMMOperand(pointer: weight.rawPointer, dtype: weight.dtype, transposed: true, ld: k)
            weightProduct(m: m, n: n, k: k, x: xf.floatPointer, lda: k, weight: w, y: yp, ldc: n, accumulate: accumulate)
        }
        return y
    }

    /// `linear(x, weight, bias).split(sizes: sizes, axis: -1)` without computing the whole output
    /// and copying it apart: part i is the product with rows `Σsizes[..<i] ..< Σsizes[...i]` of
    /// the weight (a view: rows are contiguous).
    /// - x: `[..., K]` float32; weight: `[N, K]` with `N == sizes.reduce(0, +)`; bias: `[N]` or nil.
    /// - Returns: one `[..., sizes[i]]` float32 tensor per size.
    public func linearSplit(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, sizes: [Int]) -> [Tensor] {
        precondition(weight.rank == 2, "linear weight must be [N, K], got \(weight.shape)")
        let n = weight.shape[0], k = weight.shape[1]
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == n, "split sizes \(sizes) do not add up to N=\(n)")
        precondition(x.rank >= 1 && x.shape.last == k, "linear input \(x.shape) does not end in K=\(k) (weight \(weight.shape))")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        let m = x.count / max(k, 1), es = weight.dtype.byteSize
        let xf = x.toFloat32(context: self), bf = bias?.toFloat32(context: self)
        var parts: [Tensor] = []
        var row = 0
        withExtendedLifetime((xf, weight, bf)) {
            for size in sizes {
                var shape = x.shape
                shape[shape.count - 1] = size
                var y = Tensor(uninitialized: shape, dtype: .float32)
                let yp = y.mutableFloatPointer()
                if let bf { for i in 0..<m { memcpy(yp + i * size, bf.floatPointer + row, size * 4) } }
                if size > 0 {
                    let w = GEMMOperand(pointer: weight.rawPointer + row * k * es, dtype: weight.dtype, transposed: true, ld: k)
                    weightProduct(m: m, n: size, k: k, x: xf.floatPointer, lda: k, weight: w, y: yp, ldc: size, accumulate: bf != nil)
                }
                parts.append(y)
                row += size
            }
        }
        return parts
    }

    /// `linear(concat(inputs, axis: -1), weight, bias)` without the concatenation: each input's
    /// product with its column block of the weight accumulates into the one output.
    /// - inputs: `[..., K_i]` float32, the same leading dimensions; weight: `[N, ΣK_i]`; bias: `[N]` or nil.
    /// - Returns: `[..., N]` float32.
    public func linearConcat(_ inputs: [Tensor], weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2, "linear weight must be [N, K], got \(weight.shape)")
        precondition(!inputs.isEmpty, "linearConcat needs at least one input")
        let n = weight.shape[0], k = weight.shape[1]
        let lead = Array(inputs[0].shape.dropLast())
        precondition(inputs.allSatisfy { $0.rank >= 1 && Array($0.shape.dropLast()) == lead },
                     "linearConcat inputs \(inputs.map(\.shape)) differ before the last dimension")
        precondition(inputs.reduce(0) { $0 + $1.shape.last! } == k, "inputs' widths \(inputs.map { $0.shape.last! }) do not add up to K=\(k)")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        let m = Tensor.elementCount(lead)!, es = weight.dtype.byteSize
        var y = Tensor(uninitialized: lead + [n], dtype: .float32)
        let yp = y.mutableFloatPointer()
        var accumulate = false
        if let bias {
            let b = bias.toFloat32(context: self)
            for i in 0..<m { memcpy(yp + i * n, b.floatPointer, n * 4) }
            accumulate = true
            withExtendedLifetime(b) {}
        }
        var column = 0
        for input in inputs {
            let ki = input.shape.last!
            if ki == 0 { continue }
            let xf = input.toFloat32(context: self)
            withExtendedLifetime((xf, weight)) {
                let w = GEMMOperand(pointer: weight.rawPointer + column * es, dtype: weight.dtype, transposed: true, ld: k)
                weightProduct(m: m, n: n, k: ki, x: xf.floatPointer, lda: ki, weight: w, y: yp, ldc: n, accumulate: accumulate)
            }
            accumulate = true
            column += ki
        }
        if !accumulate { for i in 0..<(m * n) { yp[i] = 0 } }
        return y
    }

    /// `y (+)= x · Wᵀ` for a transposed weight operand, in this context's precision.
    private func weightProduct(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, lda: Int, weight w: GEMMOperand,
                               y: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        if precision == .bf16 && (w.dtype == .bfloat16 || w.dtype == .float32) {
            gemmBF16(m: m, n: n, k: k, a: x, lda: lda, b: w, c: y, ldc: ldc, accumulate: accumulate)
        } else {
            gemm(m: m, n: n, k: k, a: x, lda: lda, b: w, c: y, ldc: ldc, accumulate: accumulate)
        }
    }

    /// Matrix product over the last two dimensions with broadcasting-free batching:
    /// `a` `[..., M, K]` float32 times `b` `[K, N]` (or `[N, K]` with `transposeB`), or
    /// `b` `[..., K, N]` with the same leading dimensions as `a`. Returns `[..., M, N]` float32.
    public func matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank >= 2, got \(a.shape) and \(b.shape)")
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let bk = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(bk == k, "matmul inner dimensions differ: \(a.shape) and \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(a.shape.dropLast(2))
        let batchB = Array(b.shape.dropLast(2))
        precondition(batchB.isEmpty || batchB == batchA, "matmul batch dimensions differ: \(a.shape) and \(b.shape)")
        let batches = Tensor.elementCount(batchA)!
        let af = a.toFloat32(context: self)
        var y = Tensor(uninitialized: batchA + [m, n], dtype: .float32)
        let yp = y.mutableFloatPointer()
        let es = b.dtype.byteSize
        withExtendedLifetime((af, b)) {
            for bi in 0..<batches {
                let bOff = batchB.isEmpty ? 0 : bi * k * n * es
                gemm(m: m, n: n, k: k, a: af.floatPointer + bi * m * k, lda: k,
                     b: GEMMOperand(pointer: b.rawPointer + bOff, dtype: b.dtype, transposed: transposeB, ld: transposeB ? k : n),
                     c: yp + bi * m * n, ldc: n)
            }
        }
        return y
    }
}
