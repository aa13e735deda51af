import CTensorKernels

/// The two products of one attention work item in bf16 with fp32 accumulation (``ComputePrecision/bf16``):
/// `S = Q·Kᵀ·scale` and `acc += P·V` on the bf16 GEMM's kernels, single-threaded (the items are
/// the parallel unit). Q is rounded once per query tile; each key tile's K and V, and the
/// probabilities, are rounded as they come (their packing costs 1/(2·rows) of the products).
/// The online softmax between them stays fp32. Owns its buffers; one per worker.
final class AttentionBF16Products {
    private let tq: Int, d: Int, dv: Int, dp: Int, kp: Int, mp: Int
    /// AMX tiles (K padded to 32, rows to 32) instead of the AVX512-BF16 kernel.
    private let amx: Bool
    private let qa: UnsafeMutablePointer<UInt16>, kb: UnsafeMutablePointer<UInt16>
    private let pa: UnsafeMutablePointer<UInt16>, vb: UnsafeMutablePointer<UInt16>
    private var rows = 0

    init(tq: Int, tk: Int, d: Int, dv: Int, amx: Bool) {
        self.tq = tq
        self.d = d
        self.dv = dv
        self.amx = amx
        let ka = amx ? 32 : 2, ra = amx ? 32 : 8
        dp = (d + ka - 1) / ka * ka
        kp = (tk + ka - 1) / ka * ka
        mp = (tq + ra - 1) / ra * ra
        qa = .allocate(capacity: mp * dp)
        kb = .allocate(capacity: (tk + 15) / 16 * 16 * dp)
        pa = .allocate(capacity: mp * kp)
        vb = .allocate(capacity: (dv + 15) / 16 * 16 * kp)
        qa.initialize(repeating: 0, count: mp * dp)
        pa.initialize(repeating: 0, count: mp * kp)
    }

    deinit {
        qa.deallocate(); kb.deallocate(); pa.deallocate(); vb.deallocate()
    }

    /// Rounds the query tile (`rows` rows of `d`, leading dimension `ld`).
    func setQuery(_ q: UnsafePointer<Float>, ld: Int, rows: Int) {
        precondition(rows <= tq)
        if rows < self.rows { (qa + rows * dp).update(repeating: 0, count: (self.rows - rows) * dp) }
        self.rows = rows
        tk_bf16_pack_a(q, ld, rows, d, dp, qa)
    }

    /// `s[r, j] = scale · Σ q[r] k[j]` for `keys` keys (leading dimension `ld`); `s` has `keys` columns.
    func scores(key: UnsafePointer<Float>, ld: Int, keys: Int, scale: Float, into s: UnsafeMutablePointer<Float>) {
        let tiles = (keys + 15) / 16
        for t in 0..<tiles { tk_bf16_pack_b(UnsafeRawPointer(key), 1, ld, t * 16, keys, d, dp, kb + t * 16 * dp) }
        tk_bf16_gemm_tiles(qa, mp, rows, dp, kb, 0, tiles, keys, s, keys, dp, 0, amx ? 1 : 0)
        for i in 0..<(rows * keys) { s[i] *= scale }
    }

    /// `acc[r, :] += Σ_j p[r, j] v[j, :]` for `keys` keys (`p` with `keys` columns; `v` leading dimension `ld`).
    func accumulate(probabilities p: UnsafePointer<Float>, value v: UnsafePointer<Float>, ld: Int, keys: Int,
                    into acc: UnsafeMutablePointer<Float>) {
        let ka = amx ? 32 : 2, kpNow = (keys + ka - 1) / ka * ka
        tk_bf16_pack_a(p, keys, rows, keys, kpNow, pa)
        let tiles = (dv + 15) / 16
        for t in 0..<tiles { tk_bf16_pack_b_kn(v, ld, t * 16, dv, keys, kpNow, vb + t * 16 * kpNow) }
        // Rows rows..<mp of `pa` must be zero for the kernel's 8-row (AMX: 32-row) blocks.
        if rows < mp { (pa + rows * kpNow).update(repeating: 0, count: (mp - rows) * kpNow) }
        tk_bf16_gemm_tiles(pa, mp, rows, kpNow, vb, 0, tiles, dv, acc, dv, kpNow, 1, amx ? 1 : 0)
    }
}
