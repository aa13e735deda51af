import CallbackManager
import Foundation
import SafetensorsIO
import ModelZoo
import ReferenceTesting
import Schedulers
import TensorKit
import XCTest

/// FLUX.2 [klein] against diffusers' `Flux2KleinPipeline`, component by component and end to end,
/// for every klein case of ReferenceExports.
final class Flux2KleinTests: XCTestCase {
    let ctx = try! ComputeContext()

    func cases() throws -> [String] {
        let names = try ReferenceExports.caseNames().filter { $0.hasPrefix("klein/") }
        XCTAssertGreaterThanOrEqual(names.count, 6)
        return names
    }

    func ids(_ t: Tensor) -> [[Int]] {
        let v = t.scalars(as: Int64.self), w = t.shape.last!
        return stride(from: 0, to: v.count, by: w).map { v[$0..<($0 + w)].map(Int.init) }
    }

    func request(_ c: ReferenceCase) -> GenerationRequest {
        GenerationRequest(prompt: c.manifestValue("prompt")!.stringValue!, negativePrompt: c.manifestValue("negative_prompt")?.stringValue,
                          seed: UInt64(c.manifestValue("seed")!.intValue!), steps: c.manifestValue("steps")!.intValue!,
                          width: c.manifestValue("width")!.intValue!, height: c.manifestValue("height")!.intValue!,
                          guidance: Float(c.manifestValue("guidance_scale")!.doubleValue!))
    }

    func testTransformerAtEveryStep() throws {
        for name in try cases() {
            let c = try ReferenceCase(name)
            let model = try Flux2Transformer2DModel(folder: c.checkpointPath! + "/transformer")
            let txtIds = ids(try c.tensor("transformer.in.txt_ids")), imgIds = ids(try c.tensor("transformer.in.img_ids"))
            let (h, w) = (c.manifestValue("height")!.intValue! / 16, c.manifestValue("width")!.intValue! / 16)
            XCTAssertEqual(txtIds, Flux2Latents.textIds(count: 512), name)
            XCTAssertEqual(imgIds, Flux2Latents.imageIds(height: h, width: w), name)
            let rope = model.rope(textIds: txtIds, imageIds: imgIds)
            let steps = c.manifestValue("steps")!.intValue!
            // Under guidance the negative prompt's call is checked too.
            let guided = c.tensors.info("step.0.negative.transformer.out") != nil
            XCTAssertEqual(guided, c.manifestValue("guidance_scale")!.doubleValue! > 1 && c.manifestValue("configs")?["model_index"]?["is_distilled"] == .bool(false), name)
            var worst = 0.0, checked = 0
            for prefix in guided ? ["", "negative."] : [""] {
                let text = try c.tensor("\(prefix)transformer.in.encoder_hidden_states")
                for i in 0..<steps {
                    let x = try c.tensor("step.\(i).\(prefix)transformer.in.hidden_states")
                    let t = try c.tensor("step.\(i).\(prefix)transformer.in.timestep").floats(context: ctx)[0]
                    let out = try model(hiddenStates: x.reshaped(Array(x.shape.dropFirst())), encoderHiddenStates: text.reshaped(Array(text.shape.dropFirst())),
                                        timestep: t, rope: rope, context: ctx)
                    let expected = try c.tensor("step.\(i).\(prefix)transformer.out")
                    let r = assertReferenceClose(out.reshaped(expected.shape), expected, tolerance: 1e-4, "\(name) step \(i) \(prefix)transformer")
                    worst = max(worst, r?.relative ?? 1)
                    checked += 1
                }
            }
            XCTAssertEqual(checked, steps * (guided ? 2 : 1))
            print("measured \(name) transformer: worst rel over \(steps) steps \(String(format: "%.3e", worst))")
        }
    }

    func testSchedulerNoisePromptAndPipeline() throws {
        for name in try cases() {
            let c = try ReferenceCase(name)
            let model = try Flux2Klein(modelPath: c.checkpointPath!)
            let generator = Generator(model: model)
            let request = request(c)
            // Scheduler: sigmas and timesteps bit for bit.
            let loop = try model.denoisingLoop(request)
            XCTAssertEqual(loop.sigmas, try c.tensor("scheduler.sigmas").scalars(as: Float.self), "\(name) sigmas")
            XCTAssertEqual(loop.scheduler.timesteps, try c.tensor("scheduler.timesteps").scalars(as: Float.self), "\(name) timesteps")
            // Noise from the seed, packed as diffusers packs it.
            let initial = try model.initialLatents(request, context: ctx)
            XCTAssertEqual(model.noiseShape(request), try c.tensor("noise").shape)
            XCTAssertEqual(initial.toFloat32(context: ctx).scalars(as: Float.self), try c.tensor("latents.packed").scalars(as: Float.self), "\(name) packed noise")
            // Prompt embeddings: all 512 positions, layers 9/18/27 side by side.
            let embeddings = try generator.conditioning(for: request, context: ctx)
            let expected = try c.tensor("prompt_embeds")
            let pe = assertReferenceClose(embeddings.prompt.reshaped(expected.shape), expected, tolerance: 2e-5, "\(name) prompt embeddings")
            XCTAssertEqual(embeddings.negative == nil, !(model.usesGuidance(request)))
            if let n = embeddings.negative, c.tensors.info("negative_prompt_embeds") != nil {
                let e = try c.tensor("negative_prompt_embeds")
                assertReferenceClose(n.reshaped(e.shape), e, tolerance: 1e-4, "\(name) negative prompt embeddings")
            }
            // Prompt + seed -> final latents, VAE input, image.
            let r = try generator.generate(request, context: ctx)
            let final = try c.tensor("final_latents")
            let fl = assertReferenceClose(r.latents.reshaped(final.shape), final, tolerance: 1e-5, "\(name) final latents")
            let vae = try AutoencoderKL(folder: c.checkpointPath! + "/vae", variant: .flux2)
            let vin = try Flux2Latents.vaeInput(r.latents, vae: vae, context: ctx)
            assertReferenceClose(vin, try c.tensor("vae.decode.in"), tolerance: 1e-4, "\(name) VAE input")
            let img = assertImagesMatch(r.pixels.scalars(as: UInt8.self), try c.tensor("image.uint8").scalars(as: UInt8.self), "\(name) image")
            print("measured \(name) klein: prompt embeds \(pe?.description ?? "-"); final latents \(fl?.description ?? "-"); image within 1 level \(img?.0 ?? 0), max \(img?.1 ?? -1)")
        }
    }

    func testEveryStepOfTheLoop() throws {
        for name in try cases() {
            let c = try ReferenceCase(name)
            let model = try Flux2Klein(modelPath: c.checkpointPath!)
            let request = request(c)
            let text = try c.tensor("prompt_embeds")
            let negative = c.tensors.info("negative_prompt_embeds") != nil ? try c.tensor("negative_prompt_embeds") : nil
            let conditioning = Flux2Klein.Conditioning(prompt: text.reshaped(Array(text.shape.dropFirst())),
                                                       negative: negative.map { $0.reshaped(Array($0.shape.dropFirst())) })
            let predictor = try model.predictor(request, conditioning: conditioning, denoiser: try model.loadDenoiser())
            let loop = try model.denoisingLoop(request)
            let recorder = StepRecorder()
            let callbacks = CallbackManager()
            callbacks.register(recorder)
            let info = LoopInfo(seed: request.seed, prompt: request.prompt, width: request.width, height: request.height, sigmas: loop.sigmas)
            let shape = model.noiseShape(request)
            let noise = try c.tensor("latents.packed").reshaped([1, shape[2], shape[3], shape[1]])
            _ = try loop.run(latents: noise, predictor: predictor, info: info, callbacks: callbacks, context: ctx)
            XCTAssertEqual(recorder.latents.count, request.steps)
            for (i, l) in recorder.latents.enumerated() {
                let e = try c.tensor("step.\(i).latents")
                assertReferenceClose(l.reshaped(e.shape), e, tolerance: 1e-4, "\(name) latents after step \(i)")
            }
        }
    }

    /// The published transformer configs (hand-written copies of the notes' values) parse to the
    /// published sizes.
    func testPublishedConfigs() throws {
        let dir = NSTemporaryDirectory() + "klein-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func config(layers: Int, single: Int, heads: Int, joint: Int) throws -> Flux2TransformerConfig {
            let json = """
            {"_class_name": "Flux2Transformer2DModel", "_diffusers_version": "0.42.1", "attention_head_dim": 128,
             "axes_dims_rope": [32, 32, 32, 32], "eps": 1e-06, "guidance_embeds": false, "in_channels": 128,
             "joint_attention_dim": \(joint), "mlp_ratio": 3.0, "num_attention_heads": \(heads), "num_layers": \(layers),
             "num_single_layers": \(single), "out_channels": null, "patch_size": 1, "rope_theta": 2000,
             "timestep_guidance_channels": 256}
            """
            try json.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            return try Flux2TransformerConfig.load(path: dir + "/config.json")
        }
        let k4 = try config(layers: 5, single: 20, heads: 24, joint: 7680)
        XCTAssertEqual([k4.innerDim, k4.mlpHidden, k4.numLayers, k4.numSingleLayers, k4.jointAttentionDim], [3072, 9216, 5, 20, 7680])
        let k9 = try config(layers: 8, single: 24, heads: 32, joint: 12288)
        XCTAssertEqual([k9.innerDim, k9.mlpHidden, k9.numLayers, k9.numSingleLayers, k9.jointAttentionDim], [4096, 12288, 8, 24, 12288])
        // What the code cannot run is refused with one line.
        for (bad, words) in [(#"{"patch_size": 2, "guidance_embeds": false}"#, "patch_size"),
                             (#"{"guidance_embeds": true}"#, "guidance_embeds"),
                             (#"{"axes_dims_rope": [32, 32, 32], "guidance_embeds": false}"#, "axes_dims_rope"),
                             (#"{"attention_head_dim": 64, "guidance_embeds": false}"#, "sum(axes_dims_rope)"),
                             (#"{"_class_name": "ZImageTransformer2DModel"}"#, "expected Flux2Transformer2DModel")] {
            try bad.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Flux2TransformerConfig.load(path: dir + "/config.json")) { XCTAssertTrue("\($0)".contains(words), "\($0)") }
        }
    }

    func testRegistryAndDefaults() throws {
        let root = try ReferenceExports.root()
        XCTAssertTrue(try ModelRegistry.modelClass(path: root + "/klein/checkpoints/base") == Flux2Klein.self)
        let g = try ModelRegistry.generator(path: root + "/klein/checkpoints/base")
        XCTAssertEqual(g.defaults, Flux2Klein.distilledDefaults)
        XCTAssertEqual(ModelRegistry.descriptor(named: "flux2-klein-4b")?.repoId, "black-forest-labs/FLUX.2-klein-4B")
        XCTAssertEqual(ModelRegistry.descriptor(named: "Klein-9B")?.repoId, "black-forest-labs/FLUX.2-klein-9B")
        XCTAssertEqual(ModelRegistry.descriptor(named: "flux2-klein-base-4b")?.defaults.usesGuidance, true)
        XCTAssertThrowsError(try Flux2Klein(modelPath: root + "/zimage/checkpoints/base")) { XCTAssertTrue("\($0)".contains("ZImagePipeline"), "\($0)") }
        // Distilled: guidance is ignored (one transformer call, no negative prompt).
        let model = try Flux2Klein(modelPath: root + "/klein/checkpoints/base")
        XCTAssertTrue(model.isDistilled)
        let r = GenerationRequest(prompt: "a cat", negativePrompt: "dog", seed: 1, steps: 1, width: 32, height: 32, guidance: 4)
        XCTAssertFalse(model.usesGuidance(r))
        XCTAssertNil(model.textInputs(r).negativePrompt)
        XCTAssertThrowsError(try model.validate(GenerationRequest(prompt: "a cat", seed: 1, steps: 1, width: 40, height: 32)))
    }
}
