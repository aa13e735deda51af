import TensorKit
import XCTest

final class NormTests: XCTestCase {
    func testRMSNorm() throws {
        let g = Fixtures.group("rmsnorm")
        for ctx in try supportedContexts() {
            let x = Fixtures.tensor(g, "x"), w = Fixtures.tensor(g, "w")
            let eps = Float(Fixtures.double(g, "eps"))
            assertClose(ctx.rmsNorm(x, weight: w, eps: eps), Fixtures.tensor(g, "y"), rtol: 2e-6, atol: 1e-6, "rmsnorm \(ctx.kernelPath)")
            assertClose(ctx.rmsNorm(x, weight: nil, eps: eps), Fixtures.tensor(g, "y_noweight"), rtol: 2e-6, atol: 1e-6, "rmsnorm no weight")
            // A bf16-stored weight is used at its exact value.
            let wb = w.converted(to: .bfloat16, context: ctx)
            let y = ctx.rmsNorm(x, weight: wb, eps: eps)
            let y2 = ctx.rmsNorm(x, weight: wb.toFloat32(context: ctx), eps: eps)
            XCTAssertEqual(y.floats(context: ctx), y2.floats(context: ctx))
        }
    }

    func testLayerNorm() throws {
        let g = Fixtures.group("layernorm")
        for ctx in try supportedContexts() {
            let x = Fixtures.tensor(g, "x")
            let eps = Float(Fixtures.double(g, "eps"))
            assertClose(ctx.layerNorm(x, eps: eps), Fixtures.tensor(g, "y"), rtol: 2e-6, atol: 2e-6, "layernorm \(ctx.kernelPath)")
            assertClose(ctx.layerNorm(x, weight: Fixtures.tensor(g, "w"), bias: Fixtures.tensor(g, "b"), eps: eps),
                        Fixtures.tensor(g, "y_affine"), rtol: 2e-6, atol: 4e-6, "layernorm affine")
        }
    }

    func testGroupNorm() throws {
        let g = Fixtures.group("groupnorm")
        for ctx in try supportedContexts() {
            let y = ctx.groupNorm(Fixtures.tensor(g, "x"), groups: Int(Fixtures.double(g, "groups")),
                                  weight: Fixtures.tensor(g, "w"), bias: Fixtures.tensor(g, "b"), eps: Float(Fixtures.double(g, "eps")))
            assertClose(y, Fixtures.tensor(g, "y"), rtol: 2e-6, atol: 4e-6, "groupnorm \(ctx.kernelPath)")
            // The fused SiLU gives exactly the two passes' values on every kernel path.
            let fused = ctx.groupNorm(Fixtures.tensor(g, "x"), groups: Int(Fixtures.double(g, "groups")),
                                      weight: Fixtures.tensor(g, "w"), bias: Fixtures.tensor(g, "b"), eps: Float(Fixtures.double(g, "eps")), silu: true)
            XCTAssertEqual(fused.floats(context: ctx), ctx.silu(y).floats(context: ctx), "groupnorm+silu \(ctx.kernelPath)")
        }
    }

    func testBatchNormStatistics() throws {
        let g = Fixtures.group("batchnorm")
        for ctx in try supportedContexts() {
            let x = Fixtures.tensor(g, "x"), m = Fixtures.tensor(g, "mean"), v = Fixtures.tensor(g, "var")
            let eps = Float(Fixtures.double(g, "eps"))
            assertClose(ctx.batchNormStatistics(x, runningMean: m, runningVar: v, eps: eps, inverse: false),
                        Fixtures.tensor(g, "normalized"), rtol: 2e-6, atol: 1e-6, "bn normalise")
            assertClose(ctx.batchNormStatistics(x, runningMean: m, runningVar: v, eps: eps, inverse: true),
                        Fixtures.tensor(g, "denormalized"), rtol: 2e-6, atol: 1e-6, "bn de-normalise")
        }
    }
}
