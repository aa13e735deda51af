import Foundation
import CallbackManager
import ModelZoo
import ReferenceTesting
import Schedulers
import TensorKit
import XCTest

/// The whole Z-Image loop against diffusers: from the exported prompt embeddings and initial
/// noise, the Swift scheduler + transformer + VAE reproduce the final latents and the image.
final class ZImageLoopTests: XCTestCase {
    let ctx = try! ComputeContext()

    struct Run {
        let latents: Tensor
        let pixels: Tensor
        let stepLatents: [Tensor]
    }

    static func guidance(_ c: ReferenceCase) -> ZImageGuidance {
        ZImageGuidance(scale: Float(c.manifestValue("guidance_scale")!.doubleValue!))
    }

    func run(_ c: ReferenceCase, transformer: ZImageTransformer2DModel? = nil, noise: Tensor? = nil) throws -> Run {
        let cp = c.checkpointPath!
        let model = try transformer ?? ZImageTransformer2DModel(folder: cp + "/transformer")
        let negative = c.tensors.info("negative_prompt_embeds") != nil ? try c.tensor("negative_prompt_embeds") : nil
        let initial = try noise ?? c.tensor("noise")
        let (h, w) = (initial.shape[2], initial.shape[3])
        let loop = try ZImageSchedule.loop(config: try FlowMatchEulerDiscreteSchedulerConfig.load(path: cp + "/scheduler/scheduler_config.json"),
                                           steps: c.manifestValue("steps")!.intValue!, imageSeqLen: (h / 2) * (w / 2))
        let predictor = try ZImagePredictor(transformer: model, prompt: try c.tensor("prompt_embeds"), negative: negative,
                                            guidance: Self.guidance(c), latentShape: initial.shape)
        let recorder = StepRecorder()
        let callbacks = CallbackManager()
        callbacks.register(recorder)
        let info = LoopInfo(seed: 0, prompt: "", width: w * 8, height: h * 8, sigmas: loop.sigmas)
        let latents = try loop.run(latents: initial, predictor: predictor, info: info, callbacks: callbacks, context: ctx)
        let steps = recorder.latents
        XCTAssertEqual(steps.count, c.manifestValue("steps")!.intValue!)
        let decoder = ZImageImageDecoder(vae: try AutoencoderKL(folder: cp + "/vae", variant: .flux1))
        let image = try decoder.decode(latents, context: ctx)
        return Run(latents: latents, pixels: VAEImageProcessor.pixels(image, context: ctx), stepLatents: steps)
    }

    func testLoopReproducesFinalLatentsAndImage() throws {
        let names = try ReferenceExports.caseNames().filter { $0.hasPrefix("zimage/") }
        XCTAssertGreaterThanOrEqual(names.count, 4)
        for name in names {
            let c = try ReferenceCase(name)
            let r = try run(c)
            for (i, l) in r.stepLatents.enumerated() {
                assertReferenceClose(l, try c.tensor("step.\(i).latents"), tolerance: 1e-5, "\(name) latents after step \(i)")
            }
            let lat = assertReferenceClose(r.latents, try c.tensor("final_latents"), tolerance: 1e-5, "\(name) final latents")
            let img = assertImagesMatch(r.pixels.scalars(as: UInt8.self), try c.tensor("image.uint8").scalars(as: UInt8.self), "\(name) image")
            print("measured \(name) loop: final latents \(lat?.description ?? "-"); image within 1 level \(img?.0 ?? 0), max diff \(img?.1 ?? -1)")
        }
    }
}

/// Keeps the latents after every step.
final class StepRecorder: InLoopCallback {
    var latents: [Tensor] = []
    func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) { self.latents.append(latents) }
}
