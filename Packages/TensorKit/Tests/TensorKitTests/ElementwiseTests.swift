import TensorKit
import XCTest

final class ElementwiseTests: XCTestCase {
    func testSiLUTanhExpOnEveryPath() throws {
        for ctx in try supportedContexts() {
            let p = ctx.kernelPath.rawValue
            let s = Fixtures.group("silu")
            assertClose(ctx.silu(Fixtures.tensor(s, "x")), Fixtures.tensor(s, "y"), rtol: 3e-6, atol: 1e-30, "silu \(p)")
            let t = Fixtures.group("tanh")
            assertClose(ctx.tanh(Fixtures.tensor(t, "x")), Fixtures.tensor(t, "y"), rtol: 3e-6, atol: 1e-30, "tanh \(p)")
            let e = Fixtures.group("exp")
            assertClose(ctx.exp(Fixtures.tensor(e, "x")), Fixtures.tensor(e, "y"), rtol: 3e-6, atol: 1e-37, "exp \(p)")
        }
    }

    func testSpecialValues() throws {
        for ctx in try supportedContexts() {
            let x = Tensor(shape: [6], floats: [.nan, .infinity, -.infinity, 0, -0.0, 200])
            let e = ctx.exp(x).floats(context: ctx)
            XCTAssertTrue(e[0].isNaN)
            XCTAssertEqual(e[1], .infinity)
            XCTAssertEqual(e[2], 0)
            XCTAssertEqual(e[3], 1)
            XCTAssertEqual(e[5], .infinity)
            let t = ctx.tanh(x).floats(context: ctx)
            XCTAssertTrue(t[0].isNaN)
            XCTAssertEqual(t[1], 1)
            XCTAssertEqual(t[2], -1)
            XCTAssertEqual(t[4].sign, .minus, "tanh(-0) = -0")
            let s = ctx.silu(x).floats(context: ctx)
            XCTAssertTrue(s[0].isNaN)
            XCTAssertEqual(s[1], .infinity)
            XCTAssertEqual(s[5], 200)
        }
    }

    func testSoftmax() throws {
        for ctx in try supportedContexts() {
            let g = Fixtures.group("softmax")
            assertClose(ctx.softmax(Fixtures.tensor(g, "x")), Fixtures.tensor(g, "y"), rtol: 3e-6, atol: 1e-12, "softmax \(ctx.kernelPath)")
            let allMasked = ctx.softmax(Tensor(shape: [1, 3], floats: [-.infinity, -.infinity, -.infinity]))
            XCTAssertEqual(allMasked.floats(context: ctx), [0, 0, 0], "an all -inf row gives zeros, not NaN")
        }
    }

    func testBroadcastingBinaryOps() throws {
        let ctx = try ComputeContext(threadCount: 2)
        let a = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], floats: [10, 20, 30])
        let col = Tensor(shape: [2, 1], floats: [100, 200])
        XCTAssertEqual(ctx.add(a, row).floats(context: ctx), [11, 22, 33, 14, 25, 36])
        XCTAssertEqual(ctx.add(a, col).floats(context: ctx), [101, 102, 103, 204, 205, 206])
        XCTAssertEqual(ctx.mul(a, a).floats(context: ctx), [1, 4, 9, 16, 25, 36])
        XCTAssertEqual(ctx.sub(row, a).floats(context: ctx), [9, 18, 27, 6, 15, 24])
        XCTAssertEqual(ctx.div(a, Tensor(shape: [], floats: [2])).floats(context: ctx), [0.5, 1, 1.5, 2, 2.5, 3])
        let outer = ctx.mul(Tensor(shape: [2, 1], floats: [1, 2]), Tensor(shape: [1, 3], floats: [1, 10, 100]))
        XCTAssertEqual(outer.shape, [2, 3])
        XCTAssertEqual(outer.floats(context: ctx), [1, 10, 100, 2, 20, 200])
        XCTAssertNil(Broadcast.shape([2, 3], [4]))
    }

    func testScaleShiftIsTwoRoundings() throws {
        // x*s + t evaluated with a fused multiply-add differs from PyTorch's two roundings here.
        let x: Float = 1 + .ulpOfOne, s: Float = 1 - .ulpOfOne / 2, t: Float = -1
        let expected = x * s + t  // Swift does not contract this
        for ctx in try supportedContexts() {
            let y = ctx.scaleShift(Tensor(shape: [33], floats: Array(repeating: x, count: 33)), scale: s, shift: t)
            XCTAssertEqual(Set(y.floats(context: ctx)), [expected], "\(ctx.kernelPath)")
        }
    }

    func testSiLUMul() throws {
        for ctx in try supportedContexts() {
            let a = Tensor(shape: [19], floats: (0..<19).map { Float($0) / 3 - 3 })
            let b = Tensor(shape: [19], floats: (0..<19).map { Float($0) * 0.5 + 0.25 })
            let y = ctx.siluMul(a, b).floats(context: ctx)
            for i in 0..<19 {
                let av = Double(a.floats(context: ctx)[i]), bv = Double(b.floats(context: ctx)[i])
                XCTAssertEqual(Double(y[i]), av / (1 + Foundation.exp(-av)) * bv, accuracy: 1e-5 * max(1, abs(av * bv)))
            }
        }
    }
}
