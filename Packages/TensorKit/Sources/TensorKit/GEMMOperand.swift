/// The right-hand operand of a GEMM: float32, bfloat16 or float16 elements, row-major.
/// bf16/f16 operands are converted to float32 one panel at a time inside ``ComputeContext/gemm(m:n:k:a:lda:b:c:ldc:accumulate:)``,
/// so a weight matrix is never copied to float32 as a whole.
public struct GEMMOperand {
    /// First element.
    public let pointer: UnsafeRawPointer
    /// Element type (f32, bf16 or f16).
    public let dtype: DType
    /// true: the operand is stored N x K (a PyTorch `Linear` weight) and used transposed;
    /// false: stored K x N.
    public let transposed: Bool
    /// Leading dimension in elements (K when transposed, N otherwise, for dense storage).
    public let ld: Int

    /// Describes an operand; see the properties.
    public init(pointer: UnsafeRawPointer, dtype: DType, transposed: Bool, ld: Int) {
        precondition(dtype.isComputeFloat, "GEMM operands must be f32, bf16 or f16, got \(dtype)")
        self.pointer = pointer
        self.dtype = dtype
        self.transposed = transposed
        self.ld = ld
    }
}
