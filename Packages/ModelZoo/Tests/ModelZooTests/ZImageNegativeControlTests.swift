import CallbackManager
import Foundation
import ModelZoo
import ReferenceTesting
import SafetensorsIO
import Schedulers
import TensorKit
import XCTest

/// Negative controls: each of these mistakes must break the match with diffusers, proving the
/// reference tests can fail where a port goes wrong.
final class ZImageNegativeControlTests: XCTestCase {
    let ctx = try! ComputeContext()
    let caseName = "zimage/cases/nonsquare_4steps"

    func transformer(overriding overrides: [String: Tensor]) throws -> ZImageTransformer2DModel {
        let c = try ReferenceCase(caseName)
        let folder = c.checkpointPath! + "/transformer"
        let config = try ZImageTransformerConfig.load(path: folder + "/config.json")
        let loader = WeightLoader(source: OverridingSource(try Checkpoint.open(folder), overrides: overrides), component: "transformer")
        let model = try ZImageTransformer2DModel(config: config, loader: loader)
        try loader.finish()
        return model
    }

    /// Relative error of step 0's transformer output with `model`.
    func step0Error(_ model: ZImageTransformer2DModel) throws -> Double {
        let c = try ReferenceCase(caseName)
        let x = try c.tensor("step.0.transformer.in.x")
        let t = try c.tensor("step.0.transformer.in.t").floats(context: ctx)[0]
        let out = try model(latent: x.reshaped(Array(x.shape.dropFirst())), t: t, caption: try c.tensor("transformer.in.cap.0"), context: ctx)
        let expected = try c.tensor("step.0.transformer.out")
        return Closeness(actual: out.reshaped(expected.shape), expected: expected).relative
    }

    func testControlMatches() throws {
        XCTAssertLessThanOrEqual(try step0Error(try transformer(overriding: [:])), 1e-4, "the unmodified model matches")
    }

    func testZeroPadTokensFail() throws {
        let zero = Tensor(zeros: [1, 64])
        let e = try step0Error(try transformer(overriding: ["x_pad_token": zero, "cap_pad_token": zero]))
        XCTAssertGreaterThan(e, 1e-2, "pad tokens replaced by zeros must not match (rel \(e))")
    }

    func testOneRMSNormWeightOfOnesFails() throws {
        let ones = Tensor(shape: [64], floats: Array(repeating: 1, count: 64))
        let e = try step0Error(try transformer(overriding: ["layers.0.attention_norm2.weight": ones]))
        XCTAssertGreaterThan(e, 1e-2, "an RMSNorm weight replaced by ones must not match (rel \(e))")
    }

    func testNoiseOfAnotherSeedFails() throws {
        let c = try ReferenceCase(caseName)
        let root = try ReferenceExports.root()
        let other = try SafetensorsFile(path: root + "/noise/tensors.safetensors").tensor("randn.seed0.zimage_1x16x8x6")
        XCTAssertEqual(other.shape, try c.tensor("noise").shape)
        let cp = c.checkpointPath!
        let loop = try ZImageSchedule.loop(config: try FlowMatchEulerDiscreteSchedulerConfig.load(path: cp + "/scheduler/scheduler_config.json"),
                                           steps: c.manifestValue("steps")!.intValue!, imageSeqLen: (other.shape[2] / 2) * (other.shape[3] / 2))
        let predictor = try ZImagePredictor(transformer: try ZImageTransformer2DModel(folder: cp + "/transformer"), prompt: try c.tensor("prompt_embeds"),
                                            negative: nil, guidance: .none, latentShape: other.shape)
        let info = LoopInfo(seed: 0, prompt: "", width: other.shape[3] * 8, height: other.shape[2] * 8, sigmas: loop.sigmas)
        let latents = try loop.run(latents: other, predictor: predictor, info: info, callbacks: nil, context: ctx)
        let e = Closeness(actual: latents, expected: try c.tensor("final_latents")).relative
        XCTAssertGreaterThan(e, 0.1, "another seed's noise must not reproduce the final latents (rel \(e))")
    }

    func testMissingUnexpectedAndMisshapedTensorsAreNamed() throws {
        let c = try ReferenceCase(caseName)
        let folder = c.checkpointPath! + "/transformer"
        let config = try ZImageTransformerConfig.load(path: folder + "/config.json")
        // Mis-shaped.
        let bad = OverridingSource(try Checkpoint.open(folder), overrides: ["layers.1.ffn_norm1.weight": Tensor(zeros: [63])])
        XCTAssertThrowsError(try ZImageTransformer2DModel(config: config, loader: WeightLoader(source: bad, component: "transformer"))) {
            XCTAssertEqual($0 as? ModelError, .shapeMismatch(component: "transformer", name: "layers.1.ffn_norm1.weight", expected: [64], actual: [63]))
        }
        // Missing: a config asking for one more layer than the checkpoint has.
        var deeper = config
        deeper.nLayers += 1
        XCTAssertThrowsError(try ZImageTransformer2DModel(config: deeper, loader: WeightLoader(source: try Checkpoint.open(folder), component: "transformer"))) {
            XCTAssertEqual(($0 as? ModelError)?.description, "transformer: missing tensor layers.2.attention.to_q.weight (expected shape [64, 64])")
        }
        // Unexpected: a config with one layer fewer leaves layers.1.* unused.
        var shallower = config
        shallower.nLayers -= 1
        let loader = WeightLoader(source: try Checkpoint.open(folder), component: "transformer")
        _ = try ZImageTransformer2DModel(config: shallower, loader: loader)
        XCTAssertThrowsError(try loader.finish()) {
            guard case .unexpectedTensors(_, let names)? = $0 as? ModelError else { return XCTFail("\($0)") }
            XCTAssertTrue(names.allSatisfy { $0.hasPrefix("layers.1.") }, "\(names)")
        }
    }
}
