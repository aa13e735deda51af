import TensorKit
import XCTest

final class AttentionTests: XCTestCase {
    func testSelfAttentionVariantsMatchNumpy() throws {
        let g = Fixtures.group("attention")
        let q = Fixtures.tensor(g, "q"), k = Fixtures.tensor(g, "k"), v = Fixtures.tensor(g, "v")
        let mask = Fixtures.tensor(g, "mask").converted(to: .float32, context: try ComputeContext(threadCount: 1))
        // Default tiles (one tile here) and small uneven tiles (300 = 4x64 + 44 queries,
        // 3x96 + 12 keys; batch 1's keys >= 200 are masked, so its last key tiles are fully masked).
        for tiles in [AttentionTiles.default, AttentionTiles(query: 64, key: 96), AttentionTiles(query: 1, key: 7)] {
            for ctx in try supportedContexts() {
                let p = "\(ctx.kernelPath.rawValue), tiles \(tiles.query)x\(tiles.key)"
                assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, tiles: tiles), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 2e-6, "plain \(p)")
                assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, causal: true, tiles: tiles), Fixtures.tensor(g, "y_causal"), rtol: 1e-5, atol: 2e-6, "causal \(p)")
                assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, keyMask: mask, tiles: tiles), Fixtures.tensor(g, "y_mask"), rtol: 1e-5, atol: 2e-6, "mask \(p)")
                assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, causal: true, keyMask: mask, tiles: tiles), Fixtures.tensor(g, "y_causal_mask"), rtol: 1e-5, atol: 2e-6, "causal+mask \(p)")
            }
        }
    }

    func testCrossAttentionAndFullyMaskedRows() throws {
        let g = Fixtures.group("attention_cross")
        let ctx = try ComputeContext(threadCount: 2)
        let q = Fixtures.tensor(g, "q"), k = Fixtures.tensor(g, "k"), v = Fixtures.tensor(g, "v")
        let scale = Float(Fixtures.double(g, "scale"))
        assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, scale: scale), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 2e-6, "cross")
        assertClose(ctx.scaledDotProductAttention(query: q, key: k, value: v, scale: scale, tiles: AttentionTiles(query: 32, key: 5)), Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 2e-6, "cross, small tiles")
        // Every key masked: every tile is fully masked; the output is zeros, never NaN.
        let y = ctx.scaledDotProductAttention(query: q, key: k, value: v, scale: scale, keyMask: Fixtures.tensor(g, "mask_none"), tiles: AttentionTiles(query: 16, key: 4))
        let ys = y.floats(context: ctx)
        XCTAssertFalse(ys.contains { $0.isNaN })
        XCTAssertEqual(Set(ys), [0])
    }

    /// The workspace is a function of the tile sizes, head dimension and thread count only: the
    /// bytes the kernel actually takes from the pool (its high-water mark, all workers) are the
    /// same at 1024 and 4096 tokens and within ``ComputeContext/attentionWorkspaceBytes`` (the
    /// full score matrix is never materialised).
    func testWorkspaceDoesNotGrowWithSequenceLength() throws {
        var outputs: [Int: [Float]] = [:], peaks: [Int: Int] = [:]
        var bound = 0
        for s in [1024, 4096] {
            let ctx = try ComputeContext(threadCount: 2)
            bound = ctx.attentionWorkspaceBytes(valueDim: 64)
            XCTAssertEqual(ctx.workspaces.peakBytesInUse, 0)
            let q = Tensor(shape: [1, s, 1, 64], floats: (0..<(s * 64)).map { Float(($0 * 13) % 29) / 29 - 0.5 })
            let y = ctx.scaledDotProductAttention(query: q, key: q, value: q)
            XCTAssertEqual(y.shape, [1, s, 1, 64])
            outputs[s] = y.floats(context: ctx)
            XCTAssertFalse(outputs[s]!.contains { $0.isNaN })
            peaks[s] = ctx.workspaces.peakBytesInUse
        }
        XCTAssertGreaterThan(peaks[1024]!, 0, "the kernel's scratch comes from the pool")
        XCTAssertEqual(peaks[4096], peaks[1024], "4x the tokens, the same workspace")
        XCTAssertLessThanOrEqual(peaks[4096]!, bound)
        XCTAssertLessThan(bound, 4096 * 4096 * 4 / 4, "far below the 64 MiB of one 4096x4096 score matrix")
        let ctx = try ComputeContext(threadCount: 2)
        let q = Tensor(shape: [1, 1024, 1, 64], floats: (0..<(1024 * 64)).map { Float(($0 * 13) % 29) / 29 - 0.5 })
        let single = ctx.scaledDotProductAttention(query: q, key: q, value: q, tiles: AttentionTiles(query: 1024, key: 1024))
        assertClose(Tensor(shape: [1, 1024, 1, 64], floats: outputs[1024]!), single, rtol: 1e-5, atol: 1e-6, "tiling-invariant")
    }
}
