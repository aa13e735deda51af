import TensorKit
import XCTest

final class RopeTests: XCTestCase {
    func testMultiAxisTablesAndInterleavedRotation() throws {
        let g = Fixtures.group("rope_interleaved")
        let ctx = try ComputeContext(threadCount: 2)
        let ids = g.intMatrices["ids"]!, axes = g.intLists["axes"]!
        let t64 = RopeTable.multiAxis(ids: ids, axesDims: axes, theta: Fixtures.double(g, "theta"), precision: .float64)
        let half = t64.halfDim
        assertClose(Tensor(shape: [ids.count, half], floats: t64.cos), Fixtures.tensor(g, "cos64"), rtol: 0, atol: 6e-8, "cos float64")
        assertClose(Tensor(shape: [ids.count, half], floats: t64.sin), Fixtures.tensor(g, "sin64"), rtol: 0, atol: 6e-8, "sin float64")
        let t32 = RopeTable.multiAxis(ids: ids, axesDims: axes, theta: Fixtures.double(g, "theta"), precision: .float32Angle)
        assertClose(Tensor(shape: [ids.count, half], floats: t32.cos), Fixtures.tensor(g, "cos32"), rtol: 0, atol: 1.2e-7, "cos f32 angle")
        assertClose(Tensor(shape: [ids.count, half], floats: t32.sin), Fixtures.tensor(g, "sin32"), rtol: 0, atol: 1.2e-7, "sin f32 angle")
        let y = ctx.applyRope(Fixtures.tensor(g, "x"), table: t64, layout: .interleaved)
        assertClose(y, Fixtures.tensor(g, "y"), rtol: 1e-6, atol: 1e-6, "interleaved apply")
        let f = Fixtures.group("rope_flux_table")
        let tf = RopeTable.multiAxis(ids: f.intMatrices["ids"]!, axesDims: f.intLists["axes"]!, theta: Fixtures.double(f, "theta"), precision: .float64)
        assertClose(Tensor(shape: [tf.positions, tf.halfDim], floats: tf.cos), Fixtures.tensor(f, "cos"), rtol: 0, atol: 6e-8, "flux cos")
        assertClose(Tensor(shape: [tf.positions, tf.halfDim], floats: tf.sin), Fixtures.tensor(f, "sin"), rtol: 0, atol: 6e-8, "flux sin")
    }

    func testQwenRotateHalf() throws {
        let g = Fixtures.group("rope_qwen")
        let ctx = try ComputeContext(threadCount: 2)
        let t = RopeTable.qwen(positions: g.intLists["positions"]!, headDim: Int(Fixtures.double(g, "head_dim")), theta: Fixtures.double(g, "theta"))
        assertClose(Tensor(shape: [t.positions, t.halfDim], floats: t.cos), Fixtures.tensor(g, "cos"), rtol: 0, atol: 2.5e-7, "qwen cos")
        assertClose(Tensor(shape: [t.positions, t.halfDim], floats: t.sin), Fixtures.tensor(g, "sin"), rtol: 0, atol: 2.5e-7, "qwen sin")
        assertClose(ctx.applyRope(Fixtures.tensor(g, "x"), table: t, layout: .rotateHalf), Fixtures.tensor(g, "y"), rtol: 1e-6, atol: 2e-6, "rotate-half apply")
    }

    func testHandCheckedRotation() throws {
        // One head of 4 dims at angle pi/2 on the first pair, 0 on the second.
        let ctx = try ComputeContext(threadCount: 1)
        let table = RopeTable(positions: 1, halfDim: 2, cos: [0, 1], sin: [1, 0])
        let x = Tensor(shape: [1, 1, 1, 4], floats: [1, 2, 3, 4])
        XCTAssertEqual(ctx.applyRope(x, table: table, layout: .interleaved).floats(context: ctx), [-2, 1, 3, 4])
        XCTAssertEqual(ctx.applyRope(x, table: table, layout: .rotateHalf).floats(context: ctx), [-3, 2, 1, 4])
    }
}
