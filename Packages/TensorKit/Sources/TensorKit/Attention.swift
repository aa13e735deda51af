import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// Workspace bound of ``scaledDotProductAttention(query:key:value:scale:causal:keyMask:tiles:)``
    /// in bytes: per worker one score tile (`queryTile x keyTile`), one output accumulator
    /// (`queryTile x valueDim`) and three per-row vectors. It depends on neither sequence length:
    /// the full score matrix is never materialised.
    public func attentionWorkspaceBytes(valueDim: Int, tiles: AttentionTiles = .default) -> Int {
        let tq = tiles.query, tk = tiles.key
        let perWorker = tq * tk + tq * valueDim + 3 * tq
        return threadCount * perWorker * 4
    }

    /// Scaled dot-product attention, `softmax(Q·Kᵀ·scale + mask)·V`, computed tile by tile with an
    /// online softmax (as `torch.nn.functional.scaled_dot_product_attention`).
    ///
    /// - query: `[B, Sq, Hq, D]` (token-major, the layout a `Linear` produces).
    /// - key: `[B, Sk, Hkv, D]`, value: `[B, Sk, Hkv, Dv]`; grouped-query attention when
    ///   `Hkv < Hq` (query head h uses key/value head `h / (Hq / Hkv)`).
    /// - scale: defaults to `1 / sqrt(D)`.
    /// - causal: query i attends to keys j <= i (top-left aligned, as PyTorch's `is_causal`).
    /// - keyMask: `[B, Sk]` (bool or integer; nonzero = attend) or nil.
    /// - tiles: tile sizes (results do not depend on them beyond rounding).
    /// - Returns: `[B, Sq, Hq, Dv]` float32. A query with no attended key gets zeros (no NaN).
    public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, scale: Float? = nil,
                                          causal: Bool = false, keyMask: Tensor? = nil, tiles: AttentionTiles = .default) -> Tensor {
        precondition(query.rank == 4 && key.rank == 4 && value.rank == 4, "attention expects [B, S, H, D] tensors")
        let (b, sq, hq, d) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (sk, hkv) = (key.shape[1], key.shape[2])
        let dv = value.shape[3]
        precondition(key.shape[0] == b && value.shape[0] == b, "attention batch sizes differ")
        precondition(key.shape[3] == d, "key head dim \(key.shape[3]) != query head dim \(d)")
        precondition(value.shape[1] == sk && value.shape[2] == hkv, "value \(value.shape) does not match key \(key.shape)")
        precondition(hkv > 0 && hq % hkv == 0, "\(hq) query heads are not a multiple of \(hkv) key/value heads")
        var mask: [UInt8]? = nil
        if let keyMask {
            precondition(keyMask.shape == [b, sk], "key mask \(keyMask.shape) is not [\(b), \(sk)]")
            mask = keyMask.floats(context: self).map { $0 != 0 ? 1 : 0 }
        }
        let alpha = scale ?? Float(1.0 / Double(d).squareRoot())
        let qf = query.toFloat32(context: self), kf = key.toFloat32(context: self), vf = value.toFloat32(context: self)
        var out = Tensor(uninitialized: [b, sq, hq, dv], dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let tq = tiles.query, tk = tiles.key
        let qTiles = (sq + tq - 1) / tq
        let group = hq / hkv
        let path = kernelPath.cValue
        let blas = self.blas
        withExtendedLifetime((qf, kf, vf)) {
            let qp = UncheckedSendable(qf.floatPointer), kp = UncheckedSendable(kf.floatPointer)
            let vp = UncheckedSendable(vf.floatPointer)
            let bf16 = precision == .bf16
            parallelChunks(b * hq * qTiles) { _, items in
                let products = bf16 ? AttentionBF16Products(tq: tq, tk: tk, d: d, dv: dv, amx: usesAMX) : nil
                let s = workspaces.take(Float.self, tq * tk), acc = workspaces.take(Float.self, tq * dv)
                let m = workspaces.take(Float.self, tq), l = workspaces.take(Float.self, tq), corr = workspaces.take(Float.self, tq)
                defer {
                    workspaces.give(s, tq * tk); workspaces.give(acc, tq * dv)
                    workspaces.give(m, tq); workspaces.give(l, tq); workspaces.give(corr, tq)
                }
                for item in items {
                    let bi = item / (hq * qTiles), h = (item / qTiles) % hq, qt = item % qTiles
                    let q0 = qt * tq, nq = min(tq, sq - q0)
                    let kvh = h / group
                    let qBase = qp.value + ((bi * sq + q0) * hq + h) * d
                    let kBase = kp.value + (bi * sk * hkv + kvh) * d
                    let vBase = vp.value + (bi * sk * hkv + kvh) * dv
                    for r in 0..<nq { m[r] = -Float.infinity; l[r] = 0 }
                    memset(acc, 0, nq * dv * 4)
                    products?.setQuery(qBase, ld: hq * d, rows: nq)
                    var k0 = 0
                    while k0 < sk {
                        let nk = min(tk, sk - k0)
                        defer { k0 += tk }
                        if causal && k0 > q0 + nq - 1 { break }  // every later key is in the future
                        var anyKey = true
                        if let mask {
                            anyKey = false
                            for j in 0..<nk where mask[bi * sk + k0 + j] != 0 { anyKey = true; break }
                        }
                        if !anyKey { continue }  // fully masked tile: contributes nothing
                        // S = Q · Kᵀ · scale
                        if let products {
                            products.scores(key: kBase + k0 * hkv * d, ld: hkv * d, keys: nk, scale: alpha, into: s)
                        } else {
                            blas.sgemm(transA: false, transB: true, m: nq, n: nk, k: d, alpha: alpha,
                                       a: qBase, lda: hq * d, b: kBase + k0 * hkv * d, ldb: hkv * d,
                                       beta: 0, c: s, ldc: nk)
                        }
                        if let mask {
                            for j in 0..<nk where mask[bi * sk + k0 + j] == 0 {
                                for r in 0..<nq { s[r * nk + j] = -Float.infinity }
                            }
                        }
                        if causal && k0 + nk - 1 > q0 {
                            for r in 0..<nq {
                                let first = q0 + r + 1 - k0  // first masked column in this row
                                if first < nk { for j in max(first, 0)..<nk { s[r * nk + j] = -Float.infinity } }
                            }
                        }
                        tk_online_softmax_tile(path, s, nq, nk, nk, m, l, corr)
                        for r in 0..<nq where corr[r] != 1 {
                            let a = corr[r]
                            let row = acc + r * dv
                            for j in 0..<dv { row[j] *= a }
                        }
                        // acc += P · V
                        if let products {
                            products.accumulate(probabilities: s, value: vBase + k0 * hkv * dv, ld: hkv * dv, keys: nk, into: acc)
                        } else {
                            blas.sgemm(transA: false, transB: false, m: nq, n: dv, k: nk, alpha: 1,
                                       a: s, lda: nk, b: vBase + k0 * hkv * dv, ldb: hkv * dv,
                                       beta: 1, c: acc, ldc: dv)
                        }
                    }
                    for r in 0..<nq {
                        let dst = op.value + ((bi * sq + q0 + r) * hq + h) * dv
                        let src = acc + r * dv
                        if l[r] > 0 {
                            let sum = l[r]
                            for j in 0..<dv { dst[j] = src[j] / sum }
                        } else {
                            for j in 0..<dv { dst[j] = 0 }
                        }
                    }
                }
            }
        }
        return out
    }
}
