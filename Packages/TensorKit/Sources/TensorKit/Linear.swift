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
            if precision == .bf16 && (weight.dtype == .bfloat16 || weight.dtype == .float32) {
                gemmBF16(m: m, n: n, k: k, a: xf.floatPointer, lda: k, b: w, c: yp, ldc: n, accumulate: accumulate)
            } else {
                gemm(m: m, n: n, k: k, a: xf.floatPointer, lda: k, b: w, c: yp, ldc: n, accumulate: accumulate)
            }
        }
        return y
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
