import TensorKit
import XCTest

final class LinearTests: XCTestCase {
    func testLinearMatchesNumpy() throws {
        let g = Fixtures.group("linear")
        for threads in [1, 2] {
            let ctx = try ComputeContext(threadCount: threads)
            let x = Fixtures.tensor(g, "x"), w = Fixtures.tensor(g, "w"), b = Fixtures.tensor(g, "bias")
            assertClose(ctx.linear(x, weight: w, bias: b), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 1e-5, "linear f32, \(threads) threads")
            // bf16-stored weight: rounded to nearest even on conversion, then exact inside the GEMM.
            let wb = w.converted(to: .bfloat16, context: ctx)
            XCTAssertEqual(wb.dtype, .bfloat16)
            XCTAssertEqual(wb.toFloat32(context: ctx).floats(context: ctx), Fixtures.tensor(g, "w_bf16_values").floats(context: ctx))
            assertClose(ctx.linear(x, weight: wb, bias: b), Fixtures.tensor(g, "y_bf16"), rtol: 1e-5, atol: 1e-5, "linear bf16")
            let wh = w.converted(to: .float16, context: ctx)
            let yh = ctx.linear(x, weight: wh, bias: b)
            let yh32 = ctx.linear(x, weight: wh.toFloat32(context: ctx), bias: b)
            assertClose(yh, yh32, rtol: 1e-6, atol: 1e-6, "linear f16")
        }
    }

    func testMatmulBatched() throws {
        let g = Fixtures.group("matmul")
        let ctx = try ComputeContext(threadCount: 2)
        assertClose(ctx.matmul(Fixtures.tensor(g, "a"), Fixtures.tensor(g, "b")), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 1e-5, "matmul")
        // transposeB on an unbatched operand
        let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let bT = Tensor(shape: [2, 3], floats: [1, 0, 1, 0, 1, 0])
        XCTAssertEqual(ctx.matmul(a, bT, transposeB: true).floats(context: ctx), [4, 2, 10, 5])
    }

    /// A bf16 weight larger than one panel takes the panel-by-panel path; the result must equal
    /// the GEMM on the same weight upcast to float32 (checked against numpy above).
    func testBF16PanelPathMatchesFloat32() throws {
        let ctx = try ComputeContext(threadCount: 2)
        let n = 1100, k = 2048, m = 9
        XCTAssertGreaterThan(n * k * 4, ComputeContext.gemmPanelBytes, "the weight must exceed one panel")
        var seed: UInt64 = 7
        func next() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 1000
        }
        let w = Tensor(shape: [n, k], floats: (0..<(n * k)).map { _ in next() }).converted(to: .bfloat16, context: ctx)
        let x = Tensor(shape: [m, k], floats: (0..<(m * k)).map { _ in next() })
        let y = ctx.linear(x, weight: w)
        let y32 = ctx.linear(x, weight: w.toFloat32(context: ctx))
        assertClose(y, y32, rtol: 1e-5, atol: 1e-4, "bf16 panels")
        XCTAssertEqual(ctx.gemmWorkspaceBytes(n: n, k: k, dtype: .bfloat16), 2 * ComputeContext.gemmPanelBytes)
    }

    func testThreadSplitsAgree() throws {
        let one = try ComputeContext(threadCount: 1), two = try ComputeContext(threadCount: 2)
        // Tall-and-thin (row split) and wide (column split) shapes.
        for (m, n, k) in [(300, 7, 33), (5, 333, 40), (64, 64, 64)] {
            let x = Tensor(shape: [m, k], floats: (0..<(m * k)).map { Float(($0 * 37) % 101) / 50 - 1 })
            let w = Tensor(shape: [n, k], floats: (0..<(n * k)).map { Float(($0 * 53) % 89) / 44 - 1 })
            assertClose(two.linear(x, weight: w), one.linear(x, weight: w), rtol: 1e-5, atol: 1e-5, "\(m)x\(n)x\(k)")
        }
    }
}

/// linearSplit / linearConcat against linear followed by split / preceded by concat.
final class LinearSplitConcatTests: XCTestCase {
    func values(_ n: Int, seed: Int) -> [Float] { (0..<n).map { Float(sin(Double($0 * 7 + seed))) } }

    func maxRelative(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        let x = a.scalars(as: Float.self), y = b.scalars(as: Float.self)
        var worst: Float = 0, scale: Float = 0
        for i in 0..<x.count { worst = max(worst, abs(x[i] - y[i])); scale = max(scale, abs(y[i])) }
        return worst / max(scale, 1e-30)
    }

    func testSplitAndConcatMatchTheFusedProduct() throws {
        var checked = 0
        for precision in ComputePrecision.allCases where precision.isSupported {
            for dtype in [DType.float32, .bfloat16] {
                let ctx = try ComputeContext(threadCount: 3, precision: precision)
                let (m, k) = (37, 70), sizes = [16, 0, 33, 48]
                let n = sizes.reduce(0, +)
                let x = Tensor(shape: [1, m, k], floats: values(m * k, seed: 1))
                let w = Tensor(shape: [n, k], floats: values(n * k, seed: 2)).converted(to: dtype, context: ctx)
                let bias = Tensor(shape: [n], floats: values(n, seed: 3))
                let whole = ctx.linear(x, weight: w, bias: bias)
                let parts = ctx.linearSplit(x, weight: w, bias: bias, sizes: sizes)
                XCTAssertEqual(parts.map(\.shape), sizes.map { [1, m, $0] })
                let expected = whole.split(sizes: sizes, axis: 2)
                for (p, e) in zip(parts, expected) where e.count > 0 {
                    // The same dot products; OpenBLAS may block a narrower N differently (measured <= 4e-7).
                    XCTAssertLessThanOrEqual(maxRelative(p, e), 2e-6, "\(precision) \(dtype) rows of \(e.shape)")
                }
                // Concat: inputs of widths 20, 0, 50 against the concatenated input.
                let w2 = Tensor(shape: [n, k], floats: values(n * k, seed: 4)).converted(to: dtype, context: ctx)
                let inputs = [Tensor(shape: [1, m, 20], floats: values(m * 20, seed: 5)), Tensor(zeros: [1, m, 0]),
                              Tensor(shape: [1, m, 50], floats: values(m * 50, seed: 6))]
                let fused = ctx.linear(Tensor.concat(inputs, axis: 2), weight: w2, bias: bias)
                let summed = ctx.linearConcat(inputs, weight: w2, bias: bias)
                // The two K blocks are summed in another order: float32 rounding only (measured <= 3e-7).
                print("linearSplit/linearConcat \(precision) \(dtype): concat diff \(maxRelative(summed, fused))")
                XCTAssertLessThanOrEqual(maxRelative(summed, fused), 2e-6, "\(precision) \(dtype)")
                XCTAssertGreaterThan(maxRelative(summed, ctx.linear(Tensor.concat(inputs, axis: 2), weight: w, bias: bias)), 1e-2,
                                     "the comparison can fail: another weight gives another result")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 2)
    }
}
