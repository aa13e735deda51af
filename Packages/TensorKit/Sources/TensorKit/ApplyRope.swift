#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// Applies a rotary embedding to `x` `[B, S, H, D]`: position s of every batch item and head
    /// uses row s of `table` (`table.positions == S`, `2·table.halfDim == D`).
    /// Pair (a, b) becomes `(a·cos - b·sin, b·cos + a·sin)`. Returns `[B, S, H, D]` float32.
    public func applyRope(_ x: Tensor, table: RopeTable, layout: RopeLayout) -> Tensor {
        precondition(x.rank == 4, "RoPE expects [B, S, H, D], got \(x.shape)")
        let (b, sl, h, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(table.positions == sl && table.halfDim * 2 == d, "RoPE table \(table.positions)x\(table.halfDim) does not fit \(x.shape)")
        let xf = x.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let half = d / 2
        withExtendedLifetime(xf) {
            let ip = UncheckedSendable(xf.floatPointer)
            table.cos.withUnsafeBufferPointer { cb in
                table.sin.withUnsafeBufferPointer { sb in
                    let cp = UncheckedSendable(cb.baseAddress!), sp = UncheckedSendable(sb.baseAddress!)
                    parallelFor(b * sl) { row in
                        let pos = row % sl
                        let cr = cp.value + pos * half, sr = sp.value + pos * half
                        for head in 0..<h {
                            let u = ip.value + (row * h + head) * d, v = op.value + (row * h + head) * d
                            if layout == .interleaved {
                                for i in 0..<half {
                                    let a = u[2 * i], bb = u[2 * i + 1]
                                    v[2 * i] = a * cr[i] - bb * sr[i]
                                    v[2 * i + 1] = bb * cr[i] + a * sr[i]
                                }
                            } else {
                                for i in 0..<half {
                                    let a = u[i], bb = u[i + half]
                                    v[i] = a * cr[i] - bb * sr[i]
                                    v[i + half] = bb * cr[i] + a * sr[i]
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
