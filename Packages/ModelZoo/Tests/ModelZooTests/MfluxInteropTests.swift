import Foundation
import ModelZoo
import ReferenceTesting
import SafetensorsIO
import TensorKit
import XCTest

/// Folders saved by mflux 0.24 itself (`scripts/reference/make_mflux_cases.py`: tiny models built
/// from mflux's own classes, quantized and saved by mflux) load as they are — family and sizes
/// from the stored tensors, no config files — and give mflux's outputs for the same inputs, as
/// mflux computed them when it loaded the same folders (`ReferenceExports/mflux/<case>.*`).
///
/// mflux computes in bf16 (activations rounded to bf16 between operations; Z-Image's text encoder
/// in fp32); this port computes in fp32 from the same stored weights, and a quantized layer's
/// products run on integer kernels with the activations quantized to int8 per token and group,
/// so the outputs agree to bf16 precision plus that int8 rounding. Measured (max |ours − mflux| /
/// max |mflux|): zimage-q4 text 2.5e-2, transformer 6.3e-2, VAE 1.5e-2; klein-bf16 (no
/// quantization here: the bf16 effect alone) text 2.5e-2 (27 bf16 layers), transformer 5.0e-3,
/// unpacked latents 3.7e-3, VAE 1.5e-2; klein-q8 text 8.5e-2, transformer 2.5e-2, latents
/// 3.7e-3, VAE 1.5e-2. The bars are 2x those; a misplaced or mis-laid weight gives O(1).
final class MfluxInteropTests: XCTestCase {
    let ctx = try! ComputeContext()

    struct Case {
        let folder: String
        let tensors: any TensorSource
        let manifest: [String: Any]

        init(_ name: String) throws {
            let root = try ReferenceExports.root() + "/mflux/"
            folder = root + name
            tensors = try SafetensorsFile(path: root + name + ".cases.safetensors")
            let data = try Data(contentsOf: URL(fileURLWithPath: root + name + ".manifest.json"))
            manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        }

        func tensor(_ name: String) throws -> Tensor { try tensors.tensor(name) }
        var prompt: String { manifest["prompt"] as! String }
    }

    func relative(_ a: Tensor, _ b: Tensor, _ what: String) -> Double {
        XCTAssertEqual(a.count, b.count, what)
        let x = a.floats(context: ctx), y = b.floats(context: ctx)
        var worst = 0.0, scale = 0.0
        for i in 0..<min(x.count, y.count) { worst = max(worst, Double(abs(x[i] - y[i]))); scale = max(scale, Double(abs(y[i]))) }
        return worst / scale
    }

    func testZImageFolderSavedByMflux() throws {
        let c = try Case("zimage-q4")
        let saved = try XCTUnwrap(MfluxSavedFolder(path: c.folder))
        XCTAssertEqual(saved.quantizationLevel, 4)
        XCTAssertTrue(try ModelRegistry.modelClass(path: c.folder) == ZImageTurbo.self)
        let model = try ZImageTurbo(modelPath: c.folder)
        XCTAssertEqual(model.transformerConfig.dim, 384)
        XCTAssertEqual(model.transformerConfig.nHeads, 3)
        XCTAssertEqual(model.vaeConfig.blockOutChannels, [32, 32, 64, 64])
        XCTAssertEqual(model.textEncoderConfig.numKeyValueHeads, 1)

        // Text: the same token ids, then the caption features.
        let encoder = try model.loadTextEncoder()
        let (ids, mask) = try encoder.tokens(c.prompt)
        XCTAssertEqual(ids, try XCTUnwrap(c.tensor("text.input_ids").integers()))
        XCTAssertEqual(mask, try XCTUnwrap(c.tensor("text.attention_mask").integers()))
        let text = relative(try encoder.encode(c.prompt, context: ctx), try c.tensor("text.embeds"), "text")

        // Transformer: mflux returns the negated model output (its scheduler adds it directly).
        let transformer = try model.loadDenoiser()
        let x = try c.tensor("transformer.in.x")
        let t = try c.tensor("transformer.in.timestep").floats(context: ctx)[0]
        let out = try transformer(latent: x.reshaped(Array(x.shape.suffix(4))), t: t,
                                  caption: try c.tensor("transformer.in.cap_feats"), context: ctx)
        let expected = try c.tensor("transformer.out")
        let negated = Tensor(shape: expected.shape, floats: expected.floats(context: ctx).map { -$0 })
        let pred = relative(out.reshaped(expected.shape), negated, "transformer")

        // VAE decode of the same latents.
        let decoder = try model.loadDecoder()
        let image = try decoder.decode(try c.tensor("vae.in.latents"), context: ctx)
        let vae = relative(image, try c.tensor("vae.out"), "vae")
        print(String(format: "zimage-q4 vs mflux: text %.2e, transformer %.2e, vae %.2e", text, pred, vae))
        XCTAssertLessThan(text, 0.05)
        XCTAssertLessThan(pred, 0.125)
        XCTAssertLessThan(vae, 0.03)
    }

    /// klein: the text features of all 512 positions, one transformer call (mflux rounds the
    /// timestep to bf16: σ 0.75 runs at 0.752), the BatchNorm de-normalisation + unpatchify and the
    /// VAE decode. Returns the relative errors (text, transformer, unpacked latents, vae).
    func klein(_ name: String) throws -> [Double] {
        let c = try Case(name)
        XCTAssertTrue(try ModelRegistry.modelClass(path: c.folder) == Flux2Klein.self)
        let model = try Flux2Klein(modelPath: c.folder)
        XCTAssertTrue(model.isDistilled, "mflux_model.json names flux2-klein-4b")
        XCTAssertEqual(model.transformerConfig.numAttentionHeads, 1)
        XCTAssertEqual(model.transformerConfig.jointAttentionDim, 192)
        XCTAssertEqual(model.textEncoderConfig.numHiddenLayers, 28)
        XCTAssertEqual(model.vaeConfig.blockOutChannels, [32, 32, 64, 64])

        let encoder = try model.loadTextEncoder()
        let (ids, mask) = try encoder.tokens(c.prompt)
        XCTAssertEqual(ids, try XCTUnwrap(c.tensor("text.input_ids").integers()))
        XCTAssertEqual(mask, try XCTUnwrap(c.tensor("text.attention_mask").integers()))
        let text = relative(try encoder.encode(c.prompt, context: ctx), try c.tensor("text.embeds"), "text")

        let transformer = try model.loadDenoiser()
        let x = try c.tensor("transformer.in.hidden_states"), states = try c.tensor("transformer.in.encoder_hidden_states")
        let grid = Int(Double(x.shape[1]).squareRoot())
        XCTAssertEqual(try c.tensor("transformer.in.img_ids").integers(), Flux2Latents.imageIds(height: grid, width: grid).flatMap { $0 })
        XCTAssertEqual(try c.tensor("transformer.in.txt_ids").integers(), Flux2Latents.textIds(count: states.shape[1]).flatMap { $0 })
        let rope = transformer.rope(textIds: Flux2Latents.textIds(count: states.shape[1]), imageIds: Flux2Latents.imageIds(height: grid, width: grid))
        let t = try c.tensor("transformer.in.timestep").floats(context: ctx)[0]
        let bf16 = Tensor(shape: [], floats: [t]).converted(to: .bfloat16, context: ctx).floats(context: ctx)[0]
        let out = try transformer(hiddenStates: x.reshaped(Array(x.shape.dropFirst())), encoderHiddenStates: states.reshaped(Array(states.shape.dropFirst())),
                                  timestep: bf16 / 1000, rope: rope, context: ctx)
        let pred = relative(out, try c.tensor("transformer.out"), "transformer")

        let vae = try model.loadDecoder()
        // mflux hands the token grid over as NCHW [1, 128, h, w]; this port keeps it [1, h, w, 128].
        let z = try Flux2Latents.vaeInput(try c.tensor("vae.in.latents").permuted([0, 2, 3, 1]), vae: vae, context: ctx)
        let unpacked = relative(z, try c.tensor("vae.unpacked"), "unpacked")
        let image = relative(try vae.decode(z, context: ctx), try c.tensor("vae.out"), "vae")
        print(String(format: "%@ vs mflux: text %.2e, transformer %.2e, latents %.2e, vae %.2e", name, text, pred, unpacked, image))
        return [text, pred, unpacked, image]
    }

    func testKleinFoldersSavedByMflux() throws {
        let q8 = try klein("klein-q8"), plain = try klein("klein-bf16")
        XCTAssertEqual(MfluxSavedFolder(path: try Case("klein-q8").folder)?.quantizationLevel, 8)
        XCTAssertNil(MfluxSavedFolder(path: try Case("klein-bf16").folder)?.quantizationLevel)
        for (r, bar) in zip(plain, [0.05, 0.01, 0.0075, 0.03]) { XCTAssertLessThan(r, bar, "klein-bf16") }
        for (r, bar) in zip(q8, [0.17, 0.05, 0.0075, 0.03]) { XCTAssertLessThan(r, bar, "klein-q8") }
    }

    /// A copy of an mflux folder whose transformer shard is rewritten by `edit` (tensors, metadata).
    func alteredCopy(_ name: String, _ edit: (inout [String: Tensor], inout [String: String]) throws -> Void) throws -> String {
        let source = try Case(name).folder
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mflux-bad-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: source, toPath: dir)
        let shard = dir + "/transformer/0.safetensors"
        let file = try SafetensorsFile(path: shard)
        var tensors: [String: Tensor] = [:]
        for n in file.tensorNames { tensors[n] = try file.tensor(n).converted(to: file.info(n)!.dtype, context: ctx) }
        var meta = file.metadata
        try edit(&tensors, &meta)
        try FileManager.default.removeItem(atPath: shard)
        try FileManager.default.removeItem(atPath: dir + "/transformer/model.safetensors.index.json")
        try SafetensorsWriter.write(tensors, metadata: meta, to: shard)
        return dir
    }

    func loadError(_ path: String) -> String {
        do {
            let model = try ModelRegistry.modelClass(path: path).init(modelPath: path)
            if let z = model as? ZImageTurbo { _ = try z.loadDenoiser() }
            if let k = model as? Flux2Klein { _ = try k.loadDenoiser() }
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    func testMalformedMfluxFoldersAreOneLineErrorsNamingTheTensor() throws {
        let missing = try alteredCopy("klein-q8") { t, _ in t["proj_out.biases"] = nil }
        XCTAssertTrue(loadError(missing).contains("proj_out.biases"), loadError(missing))
        let badGroups = try alteredCopy("klein-q8") { t, _ in
            let s = t["transformer_blocks.0.attn.to_q.scales"]!
            t["transformer_blocks.0.attn.to_q.scales"] = Tensor(zeros: [s.shape[0], s.shape[1] * 3], dtype: .bfloat16)
            t["transformer_blocks.0.attn.to_q.biases"] = Tensor(zeros: [s.shape[0], s.shape[1] * 3], dtype: .bfloat16)
        }
        XCTAssertTrue(loadError(badGroups).contains("transformer_blocks.0.attn.to_q"), loadError(badGroups))
        let extra = try alteredCopy("zimage-q4") { t, _ in t["layers.0.attention.to_q.lora_A"] = Tensor(zeros: [2, 2], dtype: .bfloat16) }
        XCTAssertTrue(loadError(extra).contains("lora_A"), loadError(extra))
        let noMetadata = try alteredCopy("zimage-q4") { _, m in m = [:] }
        XCTAssertTrue(loadError(noMetadata).contains("model_index.json"), loadError(noMetadata))
        for e in [missing, badGroups, extra, noMetadata].map(loadError) { XCTAssertFalse(e.contains("\n"), e) }
    }
}
