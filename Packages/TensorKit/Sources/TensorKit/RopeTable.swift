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
