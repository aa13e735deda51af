import TensorKit
import XCTest

final class AttentionTests: XCTestCase {
    func testSelfAttentionVariantsMatchNumpy() throws {
        let g = Fixtures.group("attention")
        let q = Fixtures.tensor(g, "q"), k = Fixtures.tensor(g, "k"), v = Fixtures.tensor(g, "v")
        let mask = Fixtures.tensor(g, "mask").converted(to: .float32, context: try ComputeContext(threadCount: 1))
        for ctx in try supportedContexts() {
            let p = ctx.kernelPath.rawValue
            assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 2e-6, "plain \(p)")
            assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, causal: true), Fixtures.tensor(g, "y_causal"), rtol: 1e-5, atol: 2e-6, "causal \(p)")
            assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, keyMask: mask), Fixtures.tensor(g, "y_mask"), rtol: 1e-5, atol: 2e-6, "mask \(p)")
            assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, causal: true, keyMask: mask), Fixtures.tensor(g, "y_causal_mask"), rtol: 1e-5, atol: 2e-6, "causal+mask \(p)")
        }
    }

    func testCrossAttentionAndFullyMaskedRows() throws {
        let g = Fixtures.group("attention_cross")
        let ctx = try ComputeContext(threadCount: 2)
        let q = Fixtures.tensor(g, "q"), k = Fixtures.tensor(g, "k"), v = Fixtures.tensor(g, "v")
        let scale = Float(Fixtures.double(g, "scale"))
        assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, scale: scale), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 2e-6, "cross")
        // Every key masked: every tile is fully masked; the output is zeros, never NaN.
        let y = ctx.scaledDotProductAttention(query: q, key: k, value: v, scale: scale, keyMask: Fixtures.tensor(g, "mask_none"))
        let ys = y.floats(context: ctx)
        XCTAssertFalse(ys.contains { $0.isNaN })
        XCTAssertEqual(Set(ys), [0])
    }

    /// The workspace is a function of the head dimension and the thread count only: from 1024
    /// to 4096 tokens it does not grow (the full score matrix is never materialised).
    func testWorkspaceDoesNotGrowWithSequenceLength() throws {
        let ctx = try ComputeContext(threadCount: 2)
        let bound = ctx.attentionWorkspaceBytes(valueDim: 64)
        // One head at 1024 and 4096 tokens both run within the same bound; a 4096² score matrix
        // alone would be 64 MiB.
        for s in [1024, 4096] {
            let q = Tensor(shape: [1, s, 1, 64], floats: (0..<(s * 64)).map { Float(($0 * 13) % 29) / 29 - 0.5 })
            let y = ctx.scaledDotProductAttention(query: q, key: q, value: q)
            XCTAssertEqual(y.shape, [1, s, 1, 64])
            XCTAssertFalse(y.floats(context: ctx).contains { $0.isNaN })
        }
        XCTAssertEqual(bound, ctx.attentionWorkspaceBytes(valueDim: 64))
        XCTAssertLessThan(bound, 4096 * 4096 * 4 / 16)
    }
}
