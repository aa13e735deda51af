#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A rotary-embedding table: per position, `cos` and `sin` of `halfDim` angles (float32).
public struct RopeTable: Sendable {
    /// Number of positions (rows).
    public let positions: Int
    /// Angles per position (head_dim / 2).
    public let halfDim: Int
    /// `[positions, halfDim]` cosines.
    public let cos: [Float]
    /// `[positions, halfDim]` sines.
    public let sin: [Float]

    /// A table from explicit cos/sin arrays of `positions x halfDim` values.
    public init(positions: Int, halfDim: Int, cos: [Float], sin: [Float]) {
        precondition(cos.count == positions * halfDim && sin.count == positions * halfDim, "RoPE table size mismatch")
        self.positions = positions
        self.halfDim = halfDim
        self.cos = cos
        self.sin = sin
    }

    /// How the angles are rounded before taking cos/sin, matching the reference code.
    public enum Precision: Sendable {
        /// angle, cos and sin in float64, then rounded to float32 (diffusers' FLUX.2 `Flux2PosEmbed`).
        case float64
        /// angle in float64, rounded to float32, then cos/sin in float32 (diffusers' Z-Image
        /// `RopeEmbedder`: `torch.polar` of a float32 angle).
        case float32Angle
    }

    /// A multi-axis table for the diffusion transformers (interleaved-pair rotation): axis `a`
    /// has `axesDims[a]` dimensions (`axesDims[a]/2` angles) with frequencies
    /// `theta^(-2i/axesDims[a])` computed in float64; `ids[p][a]` is position p's coordinate on
    /// axis a. The axes' angles are concatenated per position.
    public static func multiAxis(ids: [[Int]], axesDims: [Int], theta: Double, precision: Precision) -> RopeTable {
        precondition(axesDims.allSatisfy { $0 > 0 && $0 % 2 == 0 }, "RoPE axis dims must be even, got \(axesDims)")
        let half = axesDims.reduce(0, +) / 2
        var c = [Float](repeating: 0, count: ids.count * half)
        var s = [Float](repeating: 0, count: ids.count * half)
        let freqs: [[Double]] = axesDims.map { dim in
            (0..<(dim / 2)).map { i in 1.0 / libmPow(theta, Double(2 * i) / Double(dim)) }
        }
        for (p, id) in ids.enumerated() {
            precondition(id.count == axesDims.count, "position \(p) has \(id.count) coordinates, expected \(axesDims.count)")
            var o = p * half
            for a in 0..<axesDims.count {
                for f in freqs[a] {
                    let angle = Double(id[a]) * f
                    switch precision {
                    case .float64:
                        c[o] = Float(libmCos(angle)); s[o] = Float(libmSin(angle))
                    case .float32Angle:
                        let a32 = Float(angle)
                        c[o] = libmCosf(a32); s[o] = libmSinf(a32)
                    }
                    o += 1
                }
            }
        }
        return RopeTable(positions: ids.count, halfDim: half, cos: c, sin: s)
    }

    /// A single-axis table computed as transformers' Qwen3 rotary embedding does, in float32:
    /// `inv_freq = 1 / theta^(arange(0, headDim, 2) / headDim)`, `angle = position · inv_freq`.
    public static func qwen(positions: [Int], headDim: Int, theta: Double) -> RopeTable {
        precondition(headDim > 0 && headDim % 2 == 0, "head dim must be even, got \(headDim)")
        let half = headDim / 2
        let invFreq: [Float] = (0..<half).map { i in
            let e = Float(2 * i) / Float(headDim)          // fp32 exponent, as torch
            return 1 / libmPowf(Float(theta), e)
        }
        var c = [Float](repeating: 0, count: positions.count * half)
        var s = [Float](repeating: 0, count: positions.count * half)
        for (p, pos) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(pos) * invFreq[i]
                c[p * half + i] = libmCosf(angle)
                s[p * half + i] = libmSinf(angle)
            }
        }
        return RopeTable(positions: positions.count, halfDim: half, cos: c, sin: s)
    }
}

// libm, reachable under names that RopeTable's `cos`/`sin` properties do not shadow.
@inline(__always) private func libmPow(_ a: Double, _ b: Double) -> Double { pow(a, b) }
@inline(__always) private func libmCos(_ a: Double) -> Double { cos(a) }
@inline(__always) private func libmSin(_ a: Double) -> Double { sin(a) }
@inline(__always) private func libmCosf(_ a: Float) -> Float { cosf(a) }
@inline(__always) private func libmSinf(_ a: Float) -> Float { sinf(a) }
// libm, reachable under names that RopeTable's `cos`/`sin` properties do not shadow.
@inline(__always) private func libmPowf(_ a: Float, _ b: Float) -> Float { powf(a, b) }

/// Which pairs of a head's dimensions a rotary embedding rotates together.
public enum RopeLayout: Sendable {
    /// Pairs `(2i, 2i+1)` (diffusers' DiTs: Z-Image's complex form, FLUX.2's repeat-interleaved form).
    case interleaved
    /// Pairs `(i, i + D/2)` (transformers' `rotate_half`, Qwen3).
    case rotateHalf
}

extension ComputeContext {
    /// Applies a rotary embedding to `x` `[B, S, H, D]`: position s of every batch item and head
    /// uses row s of `table` (`table.positions == S`, `2·table.halfDim == D`).
    /// Pair (a, b) becomes `(a·cos - b·sin, b·cos + a·sin)`. Returns `[B, S, H, D]` float32.
    public func applyRope(_ x: Tensor, table: RopeTable, layout: RopeLayout) -> Tensor {
        precondition(x.rank == 4, "RoPE expects [B, S, H, D], got \(x.shape)")
        let (b, sl, h, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(table.positions == sl && table.halfDim * 2 == d, "RoPE table \(table.positions)x\(table.halfDim) does not fit \(x.shape)")
        var out = x.toFloat32(context: self)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let half = d / 2
        table.cos.withUnsafeBufferPointer { cb in
            table.sin.withUnsafeBufferPointer { sb in
                let cp = UncheckedSendable(cb.baseAddress!), sp = UncheckedSendable(sb.baseAddress!)
                parallelFor(b * sl) { row in
                    let pos = row % sl
                    let cr = cp.value + pos * half, sr = sp.value + pos * half
                    for head in 0..<h {
                        let v = op.value + (row * h + head) * d
                        for i in 0..<half {
                            let (ia, ib) = layout == .interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                            let a = v[ia], bb = v[ib]
                            v[ia] = a * cr[i] - bb * sr[i]
                            v[ib] = bb * cr[i] + a * sr[i]
                        }
                    }
                }
            }
        }
        return out
    }
}
