import TensorKit
import XCTest

/// bf16/f16 <-> f32 conversion on every supported kernel path, against independent references.
final class ConversionTests: XCTestCase {
    /// Reference f32 -> bf16 (round to nearest, ties to even) computed by comparing distances in
    /// Double to the two neighbouring bf16 values (not with the kernels' bit trick).
    static func referenceBF16(_ x: Float) -> UInt16 {
        if x.isNaN { return 0x7fc0 }
        let bits = x.bitPattern
        let lo = bits & 0xffff0000
        if lo & 0x7fffffff == 0x7f800000 { return UInt16(lo >> 16) }  // inf
        let loF = Double(Float(bitPattern: lo))
        let hiBits = lo &+ 0x10000
        // The next bf16 value up; past the largest finite one it is 2^128 (rounding there
        // overflows to infinity, as IEEE rounding with an unbounded exponent does).
        let hiF = hiBits & 0x7fffffff == 0x7f800000 ? (lo >> 31 == 1 ? -0x1p128 : 0x1p128) : Double(Float(bitPattern: hiBits))
        let d = Double(x)
        let dlo = abs(d - loF), dhi = abs(hiF - d)
        if dhi < dlo || (dhi == dlo && (lo >> 16) & 1 == 1) { return UInt16(hiBits >> 16) }
        return UInt16(lo >> 16)
    }

    func specialFloats() -> [Float] {
        var v: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, -.nan, Float(bitPattern: 0x7fa00000) /* signalling NaN */,
                          .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                          -.greatestFiniteMagnitude, 65504, 65520, 65519.99, 1e-8, 5.9604645e-8, 2.9802322e-8, 2.9802326e-8,
                          6.1035156e-5, 6.097555e-5, 3.0517578e-5]
        // bf16 ties: exactly halfway between two bf16 values, both parities
        v += [Float(bitPattern: 0x3f808000), Float(bitPattern: 0x3f818000), Float(bitPattern: 0x3f808001), Float(bitPattern: 0x3f807fff)]
        // f16 ties: 1 + 2^-11 (to even: 1), 1 + 3·2^-11 (to even: 1 + 2^-9)
        v += [1 + 0x1p-11, 1 + 3 * 0x1p-11, 2049, 2051, 0x1p-25, 0x1.8p-24, 0x1p-24 * 2.5]
        var s: UInt32 = 12345
        for _ in 0..<5000 {
            s = s &* 1664525 &+ 1013904223
            v.append(Float(bitPattern: s))
        }
        return v
    }

    func testBFloat16RoundTripOnEveryPath() throws {
        let values = specialFloats()
        let x = Tensor(shape: [values.count], floats: values)
        for ctx in try supportedContexts() {
            let b = x.converted(to: .bfloat16, context: ctx).scalars(as: UInt16.self)
            for (i, v) in values.enumerated() {
                if v.isNaN {
                    XCTAssertEqual(b[i] & 0x7f80, 0x7f80, "NaN stays NaN (\(ctx.kernelPath))")
                    XCTAssertNotEqual(b[i] & 0x7f, 0, "NaN stays NaN (\(ctx.kernelPath))")
                } else {
                    XCTAssertEqual(b[i], Self.referenceBF16(v), "bf16 of \(v) bits \(String(v.bitPattern, radix: 16)) on \(ctx.kernelPath)")
                }
            }
            // bf16 -> f32 is exact: every bf16 pattern
            let all = Tensor(shape: [65536], scalars: (0...65535).map { UInt16($0) }, dtype: .bfloat16)
            let f = all.toFloat32(context: ctx).scalars(as: UInt32.self)
            for i in 0..<65536 { XCTAssertEqual(f[i], UInt32(i) << 16) }
        }
        XCTAssertEqual(Self.referenceBF16(-0.0), 0x8000)
        XCTAssertEqual(Self.referenceBF16(.greatestFiniteMagnitude), 0x7f80, "rounds up past the largest bf16: inf")
        XCTAssertEqual(Self.referenceBF16(Float(bitPattern: 0x3f808000)), 0x3f80, "tie to even (down)")
        XCTAssertEqual(Self.referenceBF16(Float(bitPattern: 0x3f818000)), 0x3f82, "tie to even (up)")
    }

    func testFloat16OnEveryPathAgainstSwiftFloat16() throws {
        #if arch(x86_64) || arch(arm64)
        let values = specialFloats()
        let x = Tensor(shape: [values.count], floats: values)
        for ctx in try supportedContexts() {
            let h = x.converted(to: .float16, context: ctx).scalars(as: UInt16.self)
            for (i, v) in values.enumerated() {
                let ref = Float16(v)  // Swift converts with round to nearest even
                if v.isNaN {
                    XCTAssertTrue(Float16(bitPattern: h[i]).isNaN, "NaN stays NaN (\(ctx.kernelPath))")
                } else {
                    XCTAssertEqual(h[i], ref.bitPattern, "f16 of \(v) (\(String(v.bitPattern, radix: 16))) on \(ctx.kernelPath)")
                }
            }
            // f16 -> f32 exact for every pattern (subnormals, inf, NaN)
            let all = Tensor(shape: [65536], scalars: (0...65535).map { UInt16($0) }, dtype: .float16)
            let f = all.toFloat32(context: ctx).floats(context: ctx)
            for i in 0..<65536 {
                let ref = Float(Float16(bitPattern: UInt16(i)))
                if ref.isNaN { XCTAssertTrue(f[i].isNaN) } else { XCTAssertEqual(f[i].bitPattern, ref.bitPattern, "f16 pattern \(i)") }
            }
        }
        #endif
    }
}
