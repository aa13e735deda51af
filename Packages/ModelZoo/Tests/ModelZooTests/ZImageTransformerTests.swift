import Foundation
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// The Z-Image transformer against diffusers: for every exported step of every case, the
/// exported inputs give the exported raw output.
final class ZImageTransformerTests: XCTestCase {
    let ctx = try! ComputeContext()

    func testEveryStepOfEveryCase() throws {
        var worst = 0.0
        let names = try ReferenceExports.caseNames().filter { $0.hasPrefix("zimage/") }
        XCTAssertGreaterThanOrEqual(names.count, 4)
        for name in names {
            let c = try ReferenceCase(name)
            let model = try ZImageTransformer2DModel(folder: c.checkpointPath! + "/transformer")
            let steps = c.manifestValue("steps")!.intValue!
            for i in 0..<steps {
                let x = try c.tensor("step.\(i).transformer.in.x")      // [B, 16, 1, h, w]
                let t = try c.tensor("step.\(i).transformer.in.t").floats(context: ctx)
                let expected = try c.tensor("step.\(i).transformer.out")
                let items = x.chunked(x.shape[0], axis: 0)
                let outs = try items.enumerated().map { j, xi in
                    try model(latent: xi.reshaped(Array(xi.shape.dropFirst())), t: t[j],
                              caption: try c.tensor("transformer.in.cap.\(j)"), context: ctx)
                }
                let out = Tensor.concat(outs.map { $0.reshaped([1] + $0.shape) }, axis: 0)
                let r = assertReferenceClose(out, expected, tolerance: 1e-4, "\(name) step \(i) transformer")
                worst = max(worst, r?.relative ?? 1)
            }
            print("measured \(name) transformer: worst rel over steps so far \(String(format: "%.3e", worst))")
        }
    }

    func testInvalidInputs() throws {
        let root = try ReferenceExports.root()
        let model = try ZImageTransformer2DModel(folder: "\(root)/zimage/checkpoints/base/transformer")
        XCTAssertEqual(model.config.dim, 64)
        XCTAssertEqual(model.config.headDim, 32)
        XCTAssertThrowsError(try model(latent: Tensor(zeros: [16, 1, 3, 4]), t: 0.5, caption: Tensor(zeros: [5, 32]), context: ctx))
        XCTAssertThrowsError(try model(latent: Tensor(zeros: [16, 1, 4, 4]), t: 0.5, caption: Tensor(zeros: [5, 31]), context: ctx))
        // A layout built for other shapes is refused.
        let layout = try model.layout(latentShape: [16, 1, 4, 4], captionLength: 5)
        XCTAssertEqual(layout.paddedImageTokens, 32)
        XCTAssertThrowsError(try model(latent: Tensor(zeros: [16, 1, 4, 4]), t: 0.5, caption: Tensor(zeros: [6, 32]), layout: layout, context: ctx))
        // Positions beyond axes_lens (256 on the first axis) are refused, not read out of range.
        XCTAssertThrowsError(try model(latent: Tensor(zeros: [16, 1, 4, 4]), t: 0.5, caption: Tensor(zeros: [300, 32]), context: ctx))
    }
}
