#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// PyTorch's CPU random generator (`torch.Generator("cpu").manual_seed(seed)`) and its
/// `torch.randn(..., dtype=float32)`, reproduced bit for bit so `--seed N` gives the same
/// initial noise as diffusers.
///
/// - The engine is mt19937 seeded with `seed & 0xFFFFFFFF` (`init_genrand`).
/// - float32 tensors of 16+ elements take PyTorch's vectorised path (AVX2/AVX-512 builds): all
///   uniforms `(x & 0xFFFFFF)·2^-24` first, then Box-Muller per block of 16 pairing element j with
///   j+8, with the Cephes `log256_ps`/`sincos256_ps` polynomials of `avx_mathfun.h` in float32;
///   when the count is not a multiple of 16, the last 16 elements are redrawn and transformed again.
/// - Fewer than 16 elements take the scalar double-precision path: 53-bit uniforms from two
///   32-bit draws, Box-Muller returning `r·cos θ` and caching `r·sin θ` for the next scalar draw.
public struct TorchGenerator: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624
    /// The cached second sample of the scalar double-precision Box-Muller.
    private var nextDoubleNormal: Double?

    /// `torch.Generator("cpu").manual_seed(seed)`: only the low 32 bits of the seed are used, so
    /// `seed` and `seed + 2^32` give the same stream.
    public init(seed: UInt64) {
        var s = UInt32(truncatingIfNeeded: seed)
        state[0] = s
        for i in 1..<624 {
            s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(i)
            state[i] = s
        }
        index = 624
    }

    /// The next 32-bit output of mt19937.
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = state[(i + 397) % 624] ^ (y >> 1)
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = v
        }
        index = 0
    }

    /// A float32 uniform in [0, 1): 24 random bits.
    mutating func uniformFloat() -> Float {
        Float(nextUInt32() & 0xFF_FFFF) * 0x1p-24
    }

    /// A float64 uniform in [0, 1): 53 random bits from two draws (the first is the high word).
    mutating func uniformDouble() -> Double {
        let hi = UInt64(nextUInt32()), lo = UInt64(nextUInt32())
        return Double(((hi << 32) | lo) & ((1 << 53) - 1)) * 0x1p-53
    }

    /// One standard normal from the scalar double-precision path (with its cached sample).
    mutating func normalDouble() -> Double {
        if let cached = nextDoubleNormal {
            nextDoubleNormal = nil
            return cached
        }
        let u1 = uniformDouble()
        let u2 = uniformDouble()
        let r = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        nextDoubleNormal = r * sin(theta)
        return r * cos(theta)
    }

    /// `torch.randn(shape, generator=self, dtype=torch.float32)` (contiguous).
    public mutating func randn(_ shape: [Int]) -> Tensor {
        guard let n = Tensor.elementCount(shape) else { preconditionFailure("invalid shape \(shape)") }
        var data = [Float](repeating: 0, count: n)
        if n >= 16 {
            for i in 0..<n { data[i] = uniformFloat() }
            var i = 0
            while i + 16 <= n {
                TorchGenerator.boxMuller16(&data, at: i)
                i += 16
            }
            if n % 16 != 0 {
                for j in (n - 16)..<n { data[j] = uniformFloat() }
                TorchGenerator.boxMuller16(&data, at: n - 16)
            }
        } else {
            for i in 0..<n { data[i] = Float(normalDouble()) }
        }
        return Tensor(shape: shape, floats: data)
    }

    /// PyTorch's `normal_fill_16_AVX2` (mean 0, std 1): element j (0..7) with j+8.
    static func boxMuller16(_ d: inout [Float], at base: Int) {
        let twoPi = Float(2.0 * Double.pi)
        for j in 0..<8 {
            let u1 = 1 - d[base + j]
            let u2 = d[base + j + 8]
            let radius = (-2 * CephesAVX.log(u1)).squareRoot()
            let theta = twoPi * u2
            let (s, c) = CephesAVX.sincos(theta)
            d[base + j] = radius * c
            d[base + j + 8] = radius * s
        }
    }
}

/// The float32 Cephes polynomials of `avx_mathfun.h` (`log256_ps`, `sincos256_ps`) as PyTorch's
/// AVX2/AVX-512 build evaluates them, one lane at a time: GCC contracts the intrinsics' multiply
/// and add pairs into fused multiply-adds, and the same pairs are fused here (`addingProduct`),
/// which reproduces torch's output bit for bit on every exported draw.
enum CephesAVX {
    static func bits(_ x: Float) -> UInt32 { x.bitPattern }
    static func float(_ b: UInt32) -> Float { Float(bitPattern: b) }

    static func log(_ xIn: Float) -> Float {
        let invalid = !(xIn > 0)
        var x = xIn < Float(bitPattern: 0x0080_0000) ? Float(bitPattern: 0x0080_0000) : xIn  // _mm256_max_ps
        let imm0 = Int32(bitPattern: bits(x) >> 23) - 0x7f
        x = float((bits(x) & ~UInt32(0x7f80_0000)) | bits(0.5))
        var e = Float(imm0) + 1
        let lessThanSqrtHalf = x < Float(0.707106781186547524)
        let tmp: Float = lessThanSqrtHalf ? x : 0
        x = x - 1
        e = e - (lessThanSqrtHalf ? 1 : 0)
        x = x + tmp
        let z = x * x
        var y: Float = 7.0376836292E-2
        for p: Float in [-1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
                         -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1] {
            y = p.addingProduct(y, x)
        }
        y = y * x
        y = (e * -2.12194440e-4).addingProduct(y, z)
        y = y.addingProduct(-z, 0.5)
        x = x + y
        x = x.addingProduct(e, 0.693359375)
        return invalid ? float(bits(x) | 0xFFFF_FFFF) : x
    }

    /// (sin x, cos x).
    static func sincos(_ xIn: Float) -> (Float, Float) {
        var signSin = bits(xIn) & 0x8000_0000
        var x = float(bits(xIn) & 0x7FFF_FFFF)
        var y = x * Float(1.27323954473516)
        var j = Int32(y)  // _mm256_cvttps_epi32 (truncation)
        j = (j &+ 1) & ~1
        y = Float(j)
        let swapSignSin = UInt32(bitPattern: (j & 4) << 29)
        let polyMask = (j & 2) == 0
        x = x.addingProduct(y, -0.78515625)
        x = x.addingProduct(y, -2.4187564849853515625e-4)
        x = x.addingProduct(y, -3.77489497744594108e-8)
        let signCos = UInt32(bitPattern: (~(j &- 2) & 4) << 29)
        signSin ^= swapSignSin
        let z = x * x
        var c: Float = 2.443315711809948E-005
        c = Float(-1.388731625493765E-003).addingProduct(c, z)
        c = Float(4.166664568298827E-002).addingProduct(c, z)
        c = c * z
        c = (-(z * 0.5)).addingProduct(c, z)
        c = c + 1
        var s: Float = -1.9515295891E-4
        s = Float(8.3321608736E-3).addingProduct(s, z)
        s = Float(-1.6666654611E-1).addingProduct(s, z)
        s = s * z
        s = x.addingProduct(s, x)
        // polyMask selects the sine polynomial for sin (and the cosine one for cos).
        let sinV = polyMask ? s : c
        let cosV = polyMask ? c : s
        return (float(bits(sinV) ^ signSin), float(bits(cosV) ^ signCos))
    }
}
