#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// Bytes of float32 panel a worker converts at a time from a bf16/f16 operand.
    public static let gemmPanelBytes = 8 << 20

    /// Workspace bound of one ``gemm(m:n:k:a:lda:b:c:ldc:accumulate:)`` call in bytes: for a
    /// bf16/f16 operand either the whole converted operand (when it fits in one panel) or one
    /// panel per worker; zero for float32.
    public func gemmWorkspaceBytes(n: Int, k: Int, dtype: DType) -> Int {
        if dtype == .float32 { return 0 }
        if n * k * 4 <= ComputeContext.gemmPanelBytes { return n * k * 4 }
        return threadCount * ComputeContext.gemmPanelBytes
    }

    /// C[M, N] (=|+=) A[M, K] · op(B), A float32 with leading dimension `lda`, C float32 with
    /// leading dimension `ldc`. Split over `threadCount` workers by column blocks (or by rows
    /// when N is small); each worker calls single-threaded OpenBLAS.
    public func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: GEMMOperand,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        if m == 0 || n == 0 { return }
        let beta: Float = accumulate ? 1 : 0
        if k == 0 {
            if !accumulate { for i in 0..<m { memset(c + i * ldc, 0, n * 4) } }
            return
        }
        let blas = self.blas
        if b.dtype != .float32 {
            let wholeBytes = n * k * 4
            if wholeBytes <= ComputeContext.gemmPanelBytes {
                // Small operand: convert it once, then run as float32.
                let tmp = workspaces.take(Float.self, n * k)
                defer { workspaces.give(tmp, n * k) }
                convertPanel(b, first: 0, count: n, k: k, into: tmp)
                let dense = GEMMOperand(pointer: UnsafeRawPointer(tmp), dtype: .float32, transposed: b.transposed, ld: b.transposed ? k : n)
                gemm(m: m, n: n, k: k, a: a, lda: lda, b: dense, c: c, ldc: ldc, accumulate: accumulate)
                return
            }
            // Panels of at most gemmPanelBytes, in a multiple of the worker count so that every
            // core converts and multiplies the same number of them (a 3840-wide bf16 weight in
            // 8 MiB panels gave 8 blocks: 16 cores ran at half speed; 20 blocks on 16 workers
            // left 12 idle for the second round).
            let byBytes = max(16, (ComputeContext.gemmPanelBytes / (k * 4)) / 16 * 16)
            let units = (n + 15) / 16
            let rounds = max(1, (((n + byBytes - 1) / byBytes) + threadCount - 1) / threadCount)
            let wanted = min(units, rounds * threadCount)
            let panel = (units + wanted - 1) / wanted * 16
            let blocks = (n + panel - 1) / panel
            let cBox = UncheckedSendable(c)
            parallelFor(blocks) { blk in
                let j0 = blk * panel, nb = min(panel, n - j0)
                let tmp = workspaces.take(Float.self, nb * k)
                defer { workspaces.give(tmp, nb * k) }
                self.convertPanel(b, first: j0, count: nb, k: k, into: tmp)
                blas.sgemm(transA: false, transB: b.transposed, m: m, n: nb, k: k, alpha: 1, a: a, lda: lda,
                           b: tmp, ldb: b.transposed ? k : nb, beta: beta, c: cBox.value + j0, ldc: ldc)
            }
            return
        }
        let bp = b.pointer.assumingMemoryBound(to: Float.self)
        let cBox = UncheckedSendable(c)
        if threadCount == 1 {
            blas.sgemm(transA: false, transB: b.transposed, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                       b: bp, ldb: b.ld, beta: beta, c: c, ldc: ldc)
        } else if n >= m || m < 2 * threadCount {
            // Column blocks, multiples of 16 columns.
            let units = (n + 15) / 16
            parallelChunks(units) { _, r in
                let j0 = r.lowerBound * 16, j1 = min(n, r.upperBound * 16)
                if j1 <= j0 { return }
                let bj = b.transposed ? bp + j0 * b.ld : bp + j0
                blas.sgemm(transA: false, transB: b.transposed, m: m, n: j1 - j0, k: k, alpha: 1, a: a, lda: lda,
                           b: bj, ldb: b.ld, beta: beta, c: cBox.value + j0, ldc: ldc)
            }
        } else {
            parallelChunks(m) { _, r in
                blas.sgemm(transA: false, transB: b.transposed, m: r.count, n: n, k: k, alpha: 1,
                           a: a + r.lowerBound * lda, lda: lda, b: bp, ldb: b.ld, beta: beta,
                           c: cBox.value + r.lowerBound * ldc, ldc: ldc)
            }
        }
    }

    /// Converts columns `first ..< first+count` of op(B) to a dense float32 panel: `count x k`
    /// (transposed operand) or `k x count` (plain operand).
    func convertPanel(_ b: GEMMOperand, first: Int, count: Int, k: Int, into dst: UnsafeMutablePointer<Float>) {
        let es = b.dtype.byteSize
        if b.transposed {
            if b.ld == k {
                convertToFloat32(b.pointer + first * k * es, dtype: b.dtype, count: count * k, into: dst)
            } else {
                for j in 0..<count {
                    convertToFloat32(b.pointer + (first + j) * b.ld * es, dtype: b.dtype, count: k, into: dst + j * k)
                }
            }
        } else {
            for r in 0..<k {
                convertToFloat32(b.pointer + (r * b.ld + first) * es, dtype: b.dtype, count: count, into: dst + r * count)
            }
        }
    }
}
