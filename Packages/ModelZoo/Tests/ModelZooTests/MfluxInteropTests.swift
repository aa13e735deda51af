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
/// mflux computes in bf16 (activations rounded to bf16 between operations); this port computes
/// in fp32 from the same stored weights, so the outputs agree to bf16 precision. The bars are
/// ~3x the relative errors measured (max |ours − mflux| / max |mflux|), listed per test.
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
        XCTAssertLessThan(text, 0.03)
        XCTAssertLessThan(pred, 0.03)
        XCTAssertLessThan(vae, 0.03)
    }
}
