import Foundation
import TensorKit
import XCTest

/// The bf16 GEMM (AVX512-BF16) against an independent float64 reference of the same bf16-rounded
/// operands, at edge shapes; and `linear` routing by precision.
final class BF16GEMMTests: XCTestCase {
    /// Deterministic values in [-2, 2).
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 40000) / 10000
        }
    }

    /// bf16 rounding (nearest even) of finite values, computed independently of TensorKit.
    func bf16(_ x: Float) -> Float {
        let u = x.bitPattern
        let r = (u &+ 0x7fff &+ ((u >> 16) & 1)) & 0xffff0000
        return Float(bitPattern: r)
    }

    func testMatchesFloat64ReferenceAtEdgeShapes() throws {
        guard ComputePrecision.bf16.isSupported else {
            throw XCTSkip("this CPU has no AVX512-BF16: the bf16 GEMM is not selected here (CPUs with it run this test)")
        }
        // Both kernels: AMX tiles where this CPU has them (M >= 32), and AVX512-BF16.
        var checked = 0
        for allowAMX in [true, false] {
        let ctx = try ComputeContext(precision: .bf16, allowAMX: allowAMX)
        XCTAssertEqual(ctx.precision, .bf16)
        XCTAssertEqual(ctx.usesAMX, allowAMX && ComputeContext.hasAMXBF16)
        for (m, n, k, accumulate, f32Weights) in [(1, 1, 1, false, false), (3, 17, 5, false, false), (9, 33, 513, true, false),
                                                   (8, 32, 1024, false, true), (20, 100, 1030, true, false), (17, 48, 2, false, true),
                                                   (64, 2100, 300, false, false), (33, 47, 1100, true, false)] {
            let a = values(m * k, seed: UInt64(m * 31 + k)), wf = values(n * k, seed: UInt64(n * 17 + k))
            let weight = f32Weights ? Tensor(shape: [n, k], floats: wf) : Tensor(shape: [n, k], floats: wf).converted(to: .bfloat16, context: ctx)
            let c0 = values(m * n, seed: 99)
            var c = c0
            a.withUnsafeBufferPointer { ap in
                weight.withUnsafeBytes { wp in
                    c.withUnsafeMutableBufferPointer { cp in
                        ctx.gemmBF16(m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                                     b: GEMMOperand(pointer: wp.baseAddress!, dtype: weight.dtype, transposed: true, ld: k),
                                     c: cp.baseAddress!, ldc: n, accumulate: accumulate)
                    }
                }
            }
            var worst = 0.0, scale = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var ref = accumulate ? Double(c0[i * n + j]) : 0
                    for p in 0..<k { ref += Double(bf16(a[i * k + p])) * Double(bf16(wf[j * k + p])) }
                    worst = max(worst, abs(Double(c[i * n + j]) - ref))
                    scale = max(scale, abs(ref))
                }
            }
            XCTAssertLessThanOrEqual(worst / max(scale, 1e-30), 2e-6, "m \(m) n \(n) k \(k) amx \(ctx.usesAMX): \(worst) of \(scale)")
            checked += 1
        }
        }
        XCTAssertEqual(checked, 16)
    }

    func testConvolutionMatchesFloat64Reference() throws {
        guard ComputePrecision.bf16.isSupported else {
            throw XCTSkip("this CPU has no AVX512-BF16: the bf16 convolution is not selected here (CPUs with it run this test)")
        }
        let ctx = try ComputeContext(precision: .bf16)
        var checked = 0
        // Odd channel counts, stride 2, 1x1, asymmetric padding, rows narrower than a 16-pixel tile,
        // tiles that cross rows and whole-row tiles (width >= 16), a float32 weight.
        let sym = Padding2d.symmetric(1), asym = Padding2d(top: 0, bottom: 1, left: 0, right: 1)
        let cases: [(Int, Int, Int, Int, Int, Int, Padding2d, Bool)] = [
            (5, 6, 9, 7, 3, 1, sym, false), (3, 17, 8, 8, 3, 2, sym, false), (4, 8, 6, 5, 1, 1, .symmetric(0), false),
            (16, 40, 20, 11, 3, 1, sym, false), (7, 9, 5, 37, 3, 1, sym, false), (6, 33, 12, 40, 3, 2, asym, false),
            (8, 16, 4, 48, 3, 1, sym, true)]
        for (c, o, h, w, k, stride, padding, f32Weight) in cases {
            let xs = values(c * h * w, seed: UInt64(c * 7 + h)), ws = values(o * c * k * k, seed: UInt64(o * 3 + k)), bs = values(o, seed: 5)
            let weight = f32Weight ? Tensor(shape: [o, c, k, k], floats: ws) : Tensor(shape: [o, c, k, k], floats: ws).converted(to: .bfloat16, context: ctx)
            let y = ctx.conv2d(Tensor(shape: [1, c, h, w], floats: xs), weight: weight, bias: Tensor(shape: [o], floats: bs),
                               stride: stride, padding: padding)
            let oh = (h + padding.top + padding.bottom - k) / stride + 1, ow = (w + padding.left + padding.right - k) / stride + 1
            XCTAssertEqual(y.shape, [1, o, oh, ow])
            let yv = y.floats(context: ctx)
            var worst = 0.0, scale = 0.0
            for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
                var ref = Double(bs[oc])
                for ic in 0..<c { for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * stride + ky - padding.top, ix = ox * stride + kx - padding.left
                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                    ref += Double(bf16(xs[(ic * h + iy) * w + ix])) * Double(bf16(ws[((oc * c + ic) * k + ky) * k + kx]))
                } } }
                worst = max(worst, abs(Double(yv[(oc * oh + oy) * ow + ox]) - ref))
                scale = max(scale, abs(ref))
            } } }
            XCTAssertLessThanOrEqual(worst / scale, 2e-6, "conv \(c)->\(o) \(h)x\(w) k\(k) s\(stride)")
            checked += 1
        }
        XCTAssertEqual(checked, cases.count)
    }

    /// Attention with bf16 products (Q, K, V and the probabilities rounded to bf16, fp32 softmax and
    /// accumulation) stays within bf16 rounding of the fp32 attention, with masks, causality,
    /// grouped heads and tiles that do not divide the lengths.
    func testAttentionStaysWithinBF16RoundingOfFP32() throws {
        guard ComputePrecision.bf16.isSupported else {
            throw XCTSkip("this CPU has no AVX512-BF16: bf16 attention is not selected here (CPUs with it run this test)")
        }
        let fp32 = try ComputeContext(precision: .fp32), bf16ctx = try ComputeContext(precision: .bf16)
        var checked = 0
        for (sq, sk, hq, hkv, d, causal, masked) in [(37, 37, 4, 2, 16, true, false), (70, 130, 2, 2, 24, false, true), (9, 1100, 3, 1, 8, false, false)] {
            let q = Tensor(shape: [1, sq, hq, d], floats: values(sq * hq * d, seed: 1))
            let k = Tensor(shape: [1, sk, hkv, d], floats: values(sk * hkv * d, seed: 2))
            let v = Tensor(shape: [1, sk, hkv, d], floats: values(sk * hkv * d, seed: 3))
            let mask = masked ? Tensor(shape: [1, sk], floats: (0..<sk).map { $0 % 7 == 3 ? 0 : 1 }) : nil
            let tiles = AttentionTiles(query: 16, key: 48)
            let a = fp32.scaledDotProductAttention(query: q, key: k, value: v, causal: causal, keyMask: mask, tiles: tiles).floats(context: fp32)
            let b = bf16ctx.scaledDotProductAttention(query: q, key: k, value: v, causal: causal, keyMask: mask, tiles: tiles).floats(context: bf16ctx)
            let worst = zip(a, b).map { abs($0 - $1) }.max()!, scale = a.map { abs($0) }.max()!
            XCTAssertLessThan(worst / scale, 3e-2, "sq \(sq) sk \(sk)")
            XCTAssertGreaterThan(worst, 0, "the bf16 products ran")
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }

    func testLinearRoutesByPrecision() throws {
        let fp32 = try ComputeContext(precision: .fp32)
        let asked = try ComputeContext(precision: .bf16)
        XCTAssertEqual(asked.requestedPrecision, .bf16)
        XCTAssertEqual(asked.precision, ComputePrecision.bf16.isSupported ? .bf16 : .fp32, "bf16 falls back to fp32 without AVX512-BF16")
        // Activations that bf16 cannot hold: the bf16 path rounds them, the fp32 path does not.
        let x = Tensor(shape: [2, 3], floats: [1.001, 2.003, -3.0007, 0.1, 0.2, 0.3])
        let w = Tensor(shape: [2, 3], floats: [1, 1, 1, 1, -1, 1]).converted(to: .bfloat16, context: fp32)
        let y32 = fp32.linear(x, weight: w).floats(context: fp32)
        let y16 = asked.linear(x, weight: w).floats(context: asked)
        XCTAssertEqual(y32[0], 1.001 + 2.003 - 3.0007, accuracy: 1e-6)
        if asked.precision == .bf16 {
            XCTAssertEqual(y16[0], bf16(1.001) + bf16(2.003) + bf16(-3.0007), accuracy: 1e-6)
            XCTAssertNotEqual(y16[0], y32[0])
        } else {
            XCTAssertEqual(y16, y32)
        }
    }
}
