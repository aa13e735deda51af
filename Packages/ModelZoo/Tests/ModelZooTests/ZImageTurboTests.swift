import Foundation
import CallbackManager
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// Prompt + seed -> image, the whole Z-Image pipeline against diffusers.
final class ZImageTurboTests: XCTestCase {
    let ctx = try! ComputeContext()

    func mappedPaths() -> [String] {
        guard let f = fopen("/proc/self/maps", "r") else { return [] }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        var out: [String] = []
        while getline(&line, &cap, f) > 0 {
            let s = String(cString: line!)
            if let slash = s.firstIndex(of: "/") { out.append(String(s[slash...]).trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return out
    }

    func testEveryCaseFromPromptAndSeed() throws {
        let names = try ReferenceExports.caseNames().filter { $0.hasPrefix("zimage/") }
        XCTAssertGreaterThanOrEqual(names.count, 4)
        for name in names {
            let c = try ReferenceCase(name)
            let generator = Generator(model: try ZImageTurbo(modelPath: c.checkpointPath!))
            let g = Float(c.manifestValue("guidance_scale")!.doubleValue!)
            let request = GenerationRequest(prompt: c.manifestValue("prompt")!.stringValue!,
                                            negativePrompt: c.manifestValue("negative_prompt")?.stringValue,
                                            seed: UInt64(c.manifestValue("seed")!.intValue!), steps: c.manifestValue("steps")!.intValue!,
                                            width: c.manifestValue("width")!.intValue!, height: c.manifestValue("height")!.intValue!, guidance: g)
            // Prompt embeddings from the prompt text.
            let embeddings = try generator.conditioning(for: request, context: ctx)
            assertReferenceClose(embeddings.prompt, try c.tensor("prompt_embeds"), tolerance: 1e-4, "\(name) prompt embeddings")
            if g > 0 { assertReferenceClose(embeddings.negative!, try c.tensor("negative_prompt_embeds"), tolerance: 1e-4, "\(name) negative embeddings") }
            XCTAssertEqual(embeddings.negative == nil, g == 0)
            let r = try generator.generate(request, context: ctx)
            XCTAssertEqual(r.timings["encode"], 0, "the prompt encoded above is cached")
            let lat = assertReferenceClose(r.latents, try c.tensor("final_latents"), tolerance: 1e-5, "\(name) final latents")
            let img = assertImagesMatch(r.pixels.scalars(as: UInt8.self), try c.tensor("image.uint8").scalars(as: UInt8.self), "\(name) image")
            print("measured \(name) prompt->image: latents \(lat?.description ?? "-"); within 1 level \(img?.0 ?? 0), max \(img?.1 ?? -1)")
        }
    }

    /// Records the stage events and, at each, which checkpoint folders are mapped.
    final class MapsRecorder: StageCallback, BeforeLoopCallback {
        var events: [(StageEvent, [String])] = []
        var mappedAtFirstStep: [String] = []
        let probe: () -> [String]
        init(probe: @escaping () -> [String]) { self.probe = probe }
        func stage(_ event: StageEvent, manager: CallbackManager) { events.append((event, probe())) }
        func beforeLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) { mappedAtFirstStep = probe() }
    }

    /// The text encoder (and its file mappings) is released before the transformer is loaded, and
    /// its files are mapped while it encodes (positive control).
    func testTextEncoderIsReleasedBeforeDenoising() throws {
        let root = try ReferenceExports.root()
        let path = root + "/zimage/checkpoints/sharded"
        let callbacks = CallbackManager()
        let recorder = MapsRecorder { self.mappedPaths() }
        callbacks.register(recorder)
        let generator = Generator(model: try ZImageTurbo(modelPath: path), callbacks: callbacks)
        _ = try generator.generate(GenerationRequest(prompt: "a red fox", seed: 1, steps: 2, width: 32, height: 32), context: ctx)
        let encoderFiles = { (maps: [String]) in maps.contains { $0.contains("/zimage/checkpoints/sharded/text_encoder/") } }
        guard let encoded = recorder.events.first(where: { if case .promptEncoded = $0.0 { return true } else { return false } }) else {
            return XCTFail("no promptEncoded event")
        }
        XCTAssertTrue(encoderFiles(encoded.1), "the encoder's files are mapped while it encodes")
        XCTAssertFalse(encoderFiles(recorder.mappedAtFirstStep), "text encoder still mapped at the first step")
        XCTAssertTrue(recorder.mappedAtFirstStep.contains { $0.contains("/zimage/checkpoints/sharded/transformer/") }, "transformer not mapped")
        let order = recorder.events.compactMap { e -> String? in
            switch e.0 {
            case .loaded(let c, _): return "load \(c)"
            case .released(let c): return "release \(c)"
            default: return nil
            }
        }
        XCTAssertEqual(order, ["load text_encoder", "release text_encoder", "load transformer", "load vae"])
    }

    func testBadInputs() throws {
        let root = try ReferenceExports.root()
        let generator = Generator(model: try ZImageTurbo(modelPath: root + "/zimage/checkpoints/base"))
        for (prompt, w, h, steps, g) in [("", 32, 32, 2, 0), ("a cat", 30, 32, 2, 0), ("a cat", 32, 0, 2, 0), ("a cat", 32, 32, 0, 0),
                                         ("a cat", 32, 32, 2, -1), ("a cat", 32, 32, 2, .nan), ("a cat", 8208, 32, 2, 0)] as [(String, Int, Int, Int, Float)] {
            XCTAssertThrowsError(try generator.generate(GenerationRequest(prompt: prompt, seed: 1, steps: steps, width: w, height: h, guidance: g), context: ctx)) {
                guard case .invalidInput? = $0 as? ModelError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertEqual(generator.loadedComponents, [], "bad requests are refused before anything is loaded")
        XCTAssertThrowsError(try ZImageTurbo(modelPath: root + "/klein/checkpoints/base")) { XCTAssertTrue("\($0)".contains("Flux2KleinPipeline"), "\($0)") }
        XCTAssertThrowsError(try ZImageTurbo(modelPath: root + "/nowhere"))
    }
}
