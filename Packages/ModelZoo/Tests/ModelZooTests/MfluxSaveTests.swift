import Foundation
import ModelZoo
import ReferenceTesting
import SafetensorsIO
import TensorKit
import XCTest

/// `mflux save` (``MfluxSaver``): the names and layouts mflux 0.24 uses (Docs/MfluxFormat.md,
/// read from mflux's own mapping tables), and save → load round trips on the committed tiny
/// bf16 checkpoints: a `-q 4` save gives the same image as `-q 4` on the fly, an unquantized save
/// the same image as the source.
final class MfluxSaveTests: XCTestCase {
    let ctx = try! ComputeContext()

    func testNamesAsMfluxGivesThem() {
        let cases: [(MfluxNaming, String, String)] = [
            (ZImageTransformer2DModel.mfluxNaming, "t_embedder.mlp.0.weight", "t_embedder.linear1.weight"),
            (ZImageTransformer2DModel.mfluxNaming, "t_embedder.mlp.2.bias", "t_embedder.linear2.bias"),
            (ZImageTransformer2DModel.mfluxNaming, "all_final_layer.2-1.adaLN_modulation.1.weight", "all_final_layer.2-1.adaLN_modulation.0.weight"),
            (ZImageTransformer2DModel.mfluxNaming, "layers.3.attention.to_out.0.weight", "layers.3.attention.to_out.0.weight"),
            (Flux2Transformer2DModel.mfluxNaming, "time_guidance_embed.timestep_embedder.linear_2.weight", "time_guidance_embed.linear_2.weight"),
            (Flux2Transformer2DModel.mfluxNaming, "transformer_blocks.12.attn.to_out.0.weight", "transformer_blocks.12.attn.to_out.weight"),
            (Flux2Transformer2DModel.mfluxNaming, "single_transformer_blocks.0.attn.to_out.weight", "single_transformer_blocks.0.attn.to_out.weight"),
            (VAEVariant.flux1.mfluxNaming, "encoder.conv_in.weight", "encoder.conv_in.conv2d.weight"),
            (VAEVariant.flux1.mfluxNaming, "decoder.conv_norm_out.bias", "decoder.conv_norm_out.norm.bias"),
            (VAEVariant.flux1.mfluxNaming, "decoder.mid_block.attentions.0.to_out.0.weight", "decoder.mid_block.attentions.0.to_out.0.weight"),
            (VAEVariant.flux2.mfluxNaming, "decoder.mid_block.attentions.0.to_out.0.bias", "decoder.mid_block.attentions.0.to_out.bias"),
            (VAEVariant.flux2.mfluxNaming, "decoder.conv_in.weight", "decoder.conv_in.weight"),
            (Qwen3TextEncoder.mfluxNaming, "model.layers.2.mlp.up_proj.weight", "layers.2.mlp.up_proj.weight"),
            (Qwen3TextEncoder.mfluxNaming, "embed_tokens.weight", "embed_tokens.weight"),
        ]
        for (naming, diffusers, mflux) in cases {
            XCTAssertEqual(naming.mfluxName(diffusers), mflux, diffusers)
            if !diffusers.hasPrefix("model.") { XCTAssertEqual(naming.diffusersName(mflux), diffusers, mflux) }
        }
        XCTAssertTrue(VAEVariant.flux2.mfluxNaming.notStored.contains("bn.num_batches_tracked"))
    }

    func tempFolder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mflux-save-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func image(_ path: String, bits: Int? = nil, seed: UInt64 = 5) throws -> [UInt8] {
        let options = LoadOptions(quantization: try bits.map { try WeightQuantization(bits: $0, context: ctx) })
        let generator = try ModelRegistry.generator(path: path, options: options)
        let request = GenerationRequest(prompt: "a red fox in the snow", seed: seed, steps: 2, width: 64, height: 64)
        return try generator.generate(request, imageIndex: 0, imageCount: 1, context: ctx).pixels.scalars(as: UInt8.self)
    }

    func testSaveRoundTripsBothModels() throws {
        for (name, type) in [("zimage", ZImageTurbo.self), ("klein", Flux2Klein.self)] as [(String, any TextToImageModel.Type)] {
            let source = try ReferenceExports.root() + "/\(name)/checkpoints/bf16"
            let dir = try tempFolder()
            // -q 4: the same image as quantizing on the fly (the same MLX quantization of the same
            // bf16 weights, embeddings included).
            let report = try MfluxSaver.save(modelPath: source, type: type, to: dir + "/q4", bits: 4, modelName: name,
                                             baseModel: nil, writer: "test", context: ctx)
            XCTAssertEqual(report.quantizationLevel, 4)
            XCTAssertNotNil(MfluxSavedFolder(path: dir + "/q4"))
            XCTAssertEqual(MfluxSavedFolder(path: dir + "/q4")?.quantizationLevel, 4)
            XCTAssertEqual(try image(dir + "/q4"), try image(source, bits: 4), "\(name): saved -q 4 vs -q 4 on the fly")
            // The stored bits win over -q.
            XCTAssertEqual(try image(dir + "/q4", bits: 8), try image(dir + "/q4"), "\(name): stored bits win")
            // Unquantized: bf16 weights, convolutions through OHWI and back: the source's image.
            let plain = try MfluxSaver.save(modelPath: source, type: type, to: dir + "/bf16", bits: nil, modelName: name,
                                            baseModel: nil, writer: "test", context: ctx)
            XCTAssertNil(plain.quantizationLevel)
            XCTAssertEqual(try image(dir + "/bf16"), try image(source), "\(name): unquantized save")
            // Re-saving a saved folder with another -q keeps its bits and its values.
            _ = try MfluxSaver.save(modelPath: dir + "/q4", type: type, to: dir + "/again", bits: 8, modelName: name,
                                    baseModel: nil, writer: "test", context: ctx)
            XCTAssertEqual(MfluxSavedFolder(path: dir + "/again")?.quantizationLevel, 4)
            XCTAssertEqual(try image(dir + "/again"), try image(dir + "/q4"), "\(name): re-save")
        }
    }

    func testSavedLayoutIsMflux() throws {
        let source = try ReferenceExports.root() + "/klein/checkpoints/bf16"
        let dir = try tempFolder()
        _ = try MfluxSaver.save(modelPath: source, type: Flux2Klein.self, to: dir + "/m", bits: 8, modelName: "klein",
                                baseModel: "flux2-klein-4b", writer: "test", context: ctx)
        let fm = FileManager.default
        XCTAssertFalse(fm.fileExists(atPath: dir + "/m/model_index.json"))
        XCTAssertFalse(fm.fileExists(atPath: dir + "/m/scheduler"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/m/mflux_model.json"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/m/tokenizer/tokenizer.json"))
        for c in ["vae", "transformer", "text_encoder"] {
            let shard = try SafetensorsFile(path: dir + "/m/\(c)/0.safetensors")
            XCTAssertEqual(shard.metadata, ["quantization_level": "8", "mflux_version": "test"], c)
            let index = try ShardedCheckpoint(indexPath: dir + "/m/\(c)/model.safetensors.index.json")
            XCTAssertEqual(Set(index.weightMap.values), ["0.safetensors"], c)
            for name in shard.tensorNames {
                let dtype = shard.info(name)!.dtype
                XCTAssertTrue(dtype == .bfloat16 || (dtype == .uint32 && name.hasSuffix(".weight")), "\(c): \(name) \(dtype)")
            }
        }
        // Every linear and embedding weight whose input width is a multiple of 64 is quantized
        // (MLX refuses the others; they stay bf16), under mflux's names; nothing else is.
        for c in Flux2Klein.mfluxComponents {
            let saved = try Checkpoint.open(dir + "/m/" + c.name), original = try Checkpoint.open(source + "/" + c.name)
            var quantized = 0
            for name in original.tensorNames where !c.naming.notStored.contains(name) {
                let info = original.info(name)!, out = saved.info(c.naming.mfluxName(name))
                XCTAssertNotNil(out, "\(c.name): \(name) -> \(c.naming.mfluxName(name)) missing")
                let quantize = name.hasSuffix(".weight") && info.shape.count == 2 && info.shape[1] % 64 == 0
                XCTAssertEqual(out?.dtype, quantize ? .uint32 : .bfloat16, "\(c.name): \(name)")
                if quantize { quantized += 1 }
            }
            if c.name != "vae" { XCTAssertGreaterThan(quantized, 0, c.name) }  // the tiny VAE is 32 wide
        }
        let vae = try SafetensorsFile(path: dir + "/m/vae/0.safetensors")
        let diffusersVAE = try Checkpoint.open(source + "/vae")
        let conv = diffusersVAE.info("decoder.conv_in.weight")!.shape
        XCTAssertEqual(vae.info("decoder.conv_in.weight")?.shape, [conv[0], conv[2], conv[3], conv[1]], "OHWI")
        XCTAssertNotNil(vae.info("decoder.mid_block.attentions.0.to_out.bias"))
        XCTAssertNil(vae.info("bn.num_batches_tracked"))
        let text = try SafetensorsFile(path: dir + "/m/text_encoder/0.safetensors")
        XCTAssertFalse(text.tensorNames.contains { $0.hasPrefix("model.") || $0.hasPrefix("lm_head") })
        // The transpose is exact: every conv weight equals its diffusers value (bf16 both).
        let a = try vae.tensor("decoder.conv_in.weight").permuted([0, 3, 1, 2]).floats(context: ctx)
        let b = try diffusersVAE.tensor("decoder.conv_in.weight").floats(context: ctx)
        XCTAssertEqual(a, b)
    }

    func testSaveNeverOverwritesAndLeavesNothingOnFailure() throws {
        let source = try ReferenceExports.root() + "/zimage/checkpoints/bf16"
        let dir = try tempFolder()
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/taken"))
        XCTAssertThrowsError(try MfluxSaver.save(modelPath: source, type: ZImageTurbo.self, to: dir + "/taken", bits: 4,
                                                 modelName: "z", baseModel: nil, writer: "t", context: ctx)) { e in
            XCTAssertTrue("\(e)".contains("already exists"), "\(e)")
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "/taken", encoding: .utf8), "keep")
        XCTAssertThrowsError(try MfluxSaver.save(modelPath: source, type: ZImageTurbo.self, to: dir + "/q7", bits: 7,
                                                 modelName: "z", baseModel: nil, writer: "t", context: ctx))
        // A source without a tokenizer fails midway: no partial folder remains.
        let broken = dir + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: false)
        for c in ["model_index.json", "scheduler", "transformer", "text_encoder", "vae"] {
            try FileManager.default.createSymbolicLink(atPath: broken + "/" + c, withDestinationPath: source + "/" + c)
        }
        XCTAssertThrowsError(try MfluxSaver.save(modelPath: broken, type: ZImageTurbo.self, to: dir + "/out", bits: 4,
                                                 modelName: "z", baseModel: nil, writer: "t", context: ctx))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["broken", "taken"])
    }

    /// `mflux save --lora-paths`: the LoRA baked into the saved weights (W + Σ w·(α/r)·B·A, then
    /// bf16) gives the image of the LoRA applied on the fly within bf16 rounding; baking into a
    /// model stored quantized is refused.
    func testSaveBakesLoRAs() throws {
        let root = try ReferenceExports.root()
        for (name, type, file) in [("zimage", ZImageTurbo.self, "kohya"), ("klein", Flux2Klein.self, "bfl")] as [(String, any TextToImageModel.Type, String)] {
            let source = root + "/\(name)/checkpoints/bf16"
            let lora = [LoRAWeights(path: root + "/lora/\(name)/\(file).safetensors", scale: 0.8)]
            let dir = try tempFolder()
            _ = try MfluxSaver.save(modelPath: source, type: type, to: dir + "/baked", bits: nil, modelName: name, baseModel: nil,
                                    writer: "test", context: ctx, loras: lora)
            let baked = try image(dir + "/baked")
            let generator = try ModelRegistry.generator(path: source, options: LoadOptions(loras: lora))
            let fly = try generator.generate(GenerationRequest(prompt: "a red fox in the snow", seed: 5, steps: 2, width: 64, height: 64),
                                             imageIndex: 0, imageCount: 1, context: ctx).pixels.scalars(as: UInt8.self)
            let plain = try image(source)
            func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
                10 * log10(255 * 255 / max(zip(a, b).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(a.count), 1e-12))
            }
            print(String(format: "measured %@ baked LoRA vs on the fly: PSNR %.1f dB (LoRA vs none %.1f dB)", name, psnr(baked, fly), psnr(fly, plain)))
            XCTAssertGreaterThan(psnr(baked, fly), 50, name)
            XCTAssertLessThan(psnr(fly, plain), 35, "\(name): the LoRA changes the image")
            XCTAssertLessThanOrEqual(zip(baked, fly).map { abs(Int($0) - Int($1)) }.max() ?? 99, 3, name)
        }
        let dir = try tempFolder()
        XCTAssertThrowsError(try MfluxSaver.save(modelPath: root + "/mflux/zimage-q4", type: ZImageTurbo.self, to: dir + "/x", bits: nil,
                                                 modelName: "z", baseModel: nil, writer: "t", context: ctx,
                                                 loras: [LoRAWeights(path: root + "/lora/zimage/kohya.safetensors")])) {
            XCTAssertTrue("\($0)".contains("stored quantized") || "\($0)".contains("match"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
}
