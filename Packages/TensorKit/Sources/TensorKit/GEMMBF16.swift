import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The arithmetic of the matrix products of a ``ComputeContext``.
public enum ComputePrecision: String, Sendable, CaseIterable {
    /// float32 operands (bf16/f16 weights converted panel by panel), float32 accumulation.
    case fp32
    /// bf16 operands (activations rounded to bf16, bf16 weights as stored), float32 accumulation
    /// and output, on CPUs with AVX512-BF16; everything else (norms, softmax, residuals) stays
    /// float32. Elsewhere a context asked for bf16 computes in fp32 (see ``ComputeContext/precision``).
    case bf16

    /// Whether this CPU runs `self` natively.
    public var isSupported: Bool {
        switch self {
        case .fp32: return true
        case .bf16: return tk_bf16_gemm_supported() != 0
        }
    }
}

extension ComputeContext {
    /// Bytes of packed bf16 weight one pass of ``gemmBF16(m:n:k:a:lda:b:c:ldc:accumulate:)`` holds.
    static let bf16PanelBytes = 16 << 20
    /// K elements per block of the bf16 micro-kernel (its weight tile stays in L1).
    static let bf16KBlock = 1024

    /// C[M, N] (=|+=) A[M, K] · Wᵀ with W `[N, K]` (a transposed ``GEMMOperand``, bf16 or float32)
    /// in bf16 with float32 accumulation (AVX512-BF16; callers check ``ComputePrecision/isSupported``).
    /// A is rounded to bf16 once; W is packed panel by panel (at most `bf16PanelBytes`), each panel's
    /// 32-column blocks spread over the workers; with ``usesAMX`` (and M ≥ 32) the blocks run on
    /// AMX-BF16 tiles.
    public func gemmBF16(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: GEMMOperand,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        precondition(b.transposed && (b.dtype == .bfloat16 || b.dtype == .float32), "bf16 GEMM takes a transposed bf16/f32 operand")
        precondition(ComputePrecision.bf16.isSupported, "bf16 GEMM needs AVX512-BF16")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { memset(c + i * ldc, 0, n * 4) } }
            return
        }
        // AMX tiles take 32 rows x 32 k at a time (A padded with zero rows and columns to that).
        let amx = usesAMX && m >= 32
        let kp = amx ? (k + 31) / 32 * 32 : (k + 1) & ~1, mp = amx ? (m + 31) / 32 * 32 : (m + 7) / 8 * 8
        let pa = workspaces.take(UInt16.self, mp * kp)
        defer { workspaces.give(pa, mp * kp) }
        if mp > m { (pa + m * kp).initialize(repeating: 0, count: (mp - m) * kp) }
        let paBox = UncheckedSendable(pa)
        parallelChunks(m) { _, r in
            tk_bf16_pack_a(a + r.lowerBound * lda, lda, r.count, k, kp, paBox.value + r.lowerBound * kp)
        }
        let tilesTotal = (n + 15) / 16
        let panelTiles = max(2 * threadCount * 2, (ComputeContext.bf16PanelBytes / (kp * 2 * 16)) / 2 * 2)
        let pbCount = min(panelTiles, tilesTotal) * 16 * kp
        let pb = workspaces.take(UInt16.self, pbCount)
        defer { workspaces.give(pb, pbCount) }
        let pbBox = UncheckedSendable(pb), cBox = UncheckedSendable(c)
        let isF32: Int32 = b.dtype == .float32 ? 1 : 0
        var first = 0
        while first < tilesTotal {
            let tiles = min(panelTiles, tilesTotal - first)
            let n0 = first * 16, nPanel = min(n, (first + tiles) * 16) - n0
            let w = b.pointer + n0 * b.ld * b.dtype.byteSize
            parallelFor(tiles) { t in
                tk_bf16_pack_b(w, isF32, b.ld, t * 16, nPanel, k, kp, pbBox.value + t * 16 * kp)
            }
            parallelChunks((tiles + 1) / 2) { _, r in
                let t0 = r.lowerBound * 2, count = min(r.count * 2, tiles - t0)
                tk_bf16_gemm_tiles(paBox.value, mp, m, kp, pbBox.value, t0, count, nPanel, cBox.value + n0, ldc,
                                   ComputeContext.bf16KBlock, accumulate ? 1 : 0, amx ? 1 : 0)
            }
            first += tiles
        }
    }
}
