import Foundation
import TensorKit
import XCTest

/// MLX affine quantization and the integer quantized linear, against fixtures made by MLX itself
/// (mx.quantize / mx.dequantize, mlx 0.32.2 on CPU) and float64 numpy products
/// (scripts/reference/make_quant_fixtures.py).
final class QuantizationTests: XCTestCase {
    struct Fixture: Decodable {
        struct Quantize: Decodable {
            let bits: Int, group_size: Int, dtype: String, shape: [Int]
            let w: [Float], packed: [UInt32], scales: [Float], biases: [Float], dequant: [Float]
        }
        struct Linear: Decodable {
            let bits: Int, group_size: Int, m: Int, k: Int, n: Int, exact_activations: Bool
            let x: [Float], packed: [UInt32], scales: [Float], biases: [Float], y: [Double], abs_products: [Double]
        }
        let quantize: [Quantize]
        let linear: [Linear]
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "quant", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func testQuantizeMatchesMLXBitForBit() throws {
        let ctx = try ComputeContext()
        var checked = 0
        for c in Self.fixture.quantize {
            let dtype: DType = c.dtype == "bfloat16" ? .bfloat16 : .float32
            let w = Tensor(shape: c.shape, floats: c.w).converted(to: dtype, context: ctx)
            let q = try QuantizedMatrix.quantize(w, bits: c.bits, groupSize: c.group_size, context: ctx)
            let what = "\(c.bits) bits, \(c.dtype)"
            XCTAssertEqual(q.packed.shape, [c.shape[0], c.shape[1] * c.bits / 32], what)
            XCTAssertEqual(q.packed.scalars(as: UInt32.self), c.packed, "packed codes, \(what)")
            XCTAssertEqual(q.scales.dtype, dtype)
            XCTAssertEqual(q.scales.toFloat32(context: ctx).scalars(as: Float.self), c.scales, "scales, \(what)")
            XCTAssertEqual(q.biases.toFloat32(context: ctx).scalars(as: Float.self), c.biases, "biases, \(what)")
            // MLX dequantizes in the scales' dtype (q·scale and the sum rounded to bf16); ours is
            // float32: within two bf16 roundings of |q·scale| + |bias| (float32: a few ulps).
            let deq = q.dequantized(context: ctx).scalars(as: Float.self)
            let groups = c.shape[1] / c.group_size
            var worst: Float = 0
            for i in 0..<deq.count {
                let g = (i / c.shape[1]) * groups + (i % c.shape[1]) / c.group_size
                let magnitude = abs(deq[i] - c.biases[g]) + abs(c.biases[g]) + 1e-30
                worst = max(worst, abs(deq[i] - c.dequant[i]) / magnitude)
            }
            XCTAssertLessThanOrEqual(worst, dtype == .bfloat16 ? 2 * 0.0039 : 1e-6, "dequantized, \(what)")
            XCTAssertEqual(QuantizedMatrix.inferBits(packedWords: q.packed.shape[1], groups: q.scales.shape[1]), c.bits)
            checked += 1
        }
        XCTAssertEqual(checked, 10, "5 widths x 2 dtypes")
    }

    func testRejectsColumnsNotAMultipleOfTheGroup() throws {
        let ctx = try ComputeContext(threadCount: 1)
        XCTAssertThrowsError(try QuantizedMatrix.quantize(Tensor(zeros: [2, 96]), bits: 4, context: ctx))
        XCTAssertThrowsError(try QuantizedMatrix.quantize(Tensor(zeros: [2, 64]), bits: 7, context: ctx))
        XCTAssertThrowsError(try QuantizedMatrix(packed: Tensor(zeros: [2, 8], dtype: .uint32), scales: Tensor(zeros: [2, 2]),
                                                 biases: Tensor(zeros: [2, 2]), bits: 4, groupSize: 64), "64 columns but 2 groups")
    }

    func testQuantizedLinearMatchesFloat64OnEveryKernelPath() throws {
        let paths = QuantKernelPath.allCases.filter(\.isSupported)
        XCTAssertTrue(paths.contains(.scalar))
        var checked = 0
        for path in paths {
            for threads in [1, 3] {
                let ctx = try ComputeContext(threadCount: threads)
                for c in Self.fixture.linear {
                    let groups = c.k / c.group_size
                    let weight = try QuantizedMatrix(
                        packed: Tensor(shape: [c.n, c.k * c.bits / 32], scalars: c.packed, dtype: .uint32),
                        scales: Tensor(shape: [c.n, groups], floats: c.scales).converted(to: .bfloat16, context: ctx),
                        biases: Tensor(shape: [c.n, groups], floats: c.biases).converted(to: .bfloat16, context: ctx),
                        bits: c.bits, groupSize: c.group_size)
                    let bias = Tensor(shape: [c.n], floats: (0..<c.n).map { Float($0) * 0.25 - 2 })
                    let x = Tensor(shape: [c.m, c.k], floats: c.x)
                    let y = ctx.quantizedLinear(x, weight: weight, bias: bias, path: path).scalars(as: Float.self)
                    // Bound: each activation moves by at most half its group's int8 step
                    // (max|x_g| / 254), times |w|; exact activations leave float32 rounding only.
                    let absW = weight.dequantized(context: ctx).scalars(as: Float.self).map { Double(abs($0)) }
                    var worstRatio = 0.0
                    for r in 0..<c.m {
                        for j in 0..<c.n {
                            var bound = 0.0
                            if !c.exact_activations {
                                for g in 0..<groups {
                                    let xs = c.x[(r * c.k + g * c.group_size)..<(r * c.k + (g + 1) * c.group_size)]
                                    let step = Double(xs.map { abs($0) }.max()!) / 254
                                    var wsum = 0.0
                                    for i in 0..<c.group_size { wsum += absW[j * c.k + g * c.group_size + i] }
                                    bound += step * wsum
                                }
                            }
                            bound += 1e-5 * c.abs_products[r * c.n + j] + 1e-5
                            let expected = c.y[r * c.n + j] + Double(bias.scalars(as: Float.self)[j])
                            let err = abs(Double(y[r * c.n + j]) - expected)
                            worstRatio = max(worstRatio, err / bound)
                        }
                    }
                    XCTAssertLessThanOrEqual(worstRatio, 1, "\(path), \(c.bits) bits, m \(c.m) k \(c.k) n \(c.n), exact \(c.exact_activations)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, paths.count * 2 * Self.fixture.linear.count)
        XCTAssertEqual(Self.fixture.linear.count, 7)
    }

    func testSplitAndConcatMatchTheWholeProduct() throws {
        let ctx = try ComputeContext(threadCount: 3)
        var checked = 0
        for bits in [8, 4, 3] {
            let (m, k, n) = (7, 192, 80)
            let w = Tensor(shape: [n, k], floats: (0..<(n * k)).map { Float(sin(Double($0) * 0.37)) }).converted(to: .bfloat16, context: ctx)
            let q = try QuantizedMatrix.quantize(w, bits: bits, context: ctx)
            let x = Tensor(shape: [m, k], floats: (0..<(m * k)).map { Float(cos(Double($0) * 0.11)) * 2 })
            let bias = Tensor(shape: [n], floats: (0..<n).map { Float($0) / 10 })
            let whole = ctx.quantizedLinear(x, weight: q, bias: bias)
            let sizes = [16, 0, 33, 31]
            let parts = ctx.quantizedLinearSplit(x, weight: q, bias: bias, sizes: sizes)
            for (p, e) in zip(parts, whole.split(sizes: sizes, axis: 1)) {
                XCTAssertEqual(p.scalars(as: Float.self), e.scalars(as: Float.self), "\(bits) bits: rows computed alone are the same")
            }
            let pieces = x.split(sizes: [64, 128], axis: 1)
            let summed = ctx.quantizedLinearConcat(pieces, weight: q, bias: bias).scalars(as: Float.self)
            let ref = whole.scalars(as: Float.self)
            let scale = ref.map(abs).max()!
            let worst = zip(summed, ref).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst / scale, 1e-6, "\(bits) bits: the column blocks' sum (float32 order only)")
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }

    func testQuantizedLinearCanFail() throws {
        // The same comparison with another weight's codes is far outside the bound.
        let ctx = try ComputeContext(threadCount: 1)
        let c = Self.fixture.linear[0]
        let groups = c.k / c.group_size
        let wrong = try QuantizedMatrix(packed: Tensor(shape: [c.n, c.k * c.bits / 32], scalars: c.packed.reversed(), dtype: .uint32),
                                        scales: Tensor(shape: [c.n, groups], floats: c.scales), biases: Tensor(shape: [c.n, groups], floats: c.biases),
                                        bits: c.bits, groupSize: c.group_size)
        let y = ctx.quantizedLinear(Tensor(shape: [c.m, c.k], floats: c.x), weight: wrong).scalars(as: Float.self)
        let far = zip(y, c.y).filter { abs(Double($0) - $1) > 0.05 * (abs($1) + 1) }.count
        XCTAssertGreaterThan(far, y.count / 2)
    }
}
