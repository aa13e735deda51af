import Foundation
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
        for name in try ReferenceExports.caseNames() where name.hasPrefix("zimage/") {
            let c = try ReferenceCase(name)
            let model = try ZImageTurbo(modelPath: c.checkpointPath!)
            let g = Float(c.manifestValue("guidance_scale")!.doubleValue!)
            let negative = c.manifestValue("negative_prompt")?.stringValue ?? ""
            // Prompt embeddings from the prompt text.
            let (p, n) = try model.encodePrompts(c.manifestValue("prompt")!.stringValue!, negativePrompt: g > 0 ? negative : nil, context: ctx)
            assertReferenceClose(p, try c.tensor("prompt_embeds"), tolerance: 1e-4, "\(name) prompt embeddings")
            if g > 0 { assertReferenceClose(n!, try c.tensor("negative_prompt_embeds"), tolerance: 1e-4, "\(name) negative embeddings") }
            let r = try model.generate(prompt: c.manifestValue("prompt")!.stringValue!, negativePrompt: negative,
                                       seed: UInt64(c.manifestValue("seed")!.intValue!), steps: c.manifestValue("steps")!.intValue!,
                                       width: c.manifestValue("width")!.intValue!, height: c.manifestValue("height")!.intValue!,
                                       guidance: ZImageGuidance(scale: g), context: ctx)
            let lat = assertReferenceClose(r.latents, try c.tensor("final_latents"), tolerance: 1e-3, "\(name) final latents")
            let img = assertImagesMatch(r.pixels.scalars(as: UInt8.self), try c.tensor("image.uint8").scalars(as: UInt8.self), "\(name) image")
            print("measured \(name) prompt->image: latents \(lat?.description ?? "-"); within 1 level \(img?.0 ?? 0), max \(img?.1 ?? -1)")
        }
    }

    /// The text encoder (and its file mappings) is released before the first denoising step,
    /// while the transformer's weights are mapped.
    func testTextEncoderIsReleasedBeforeDenoising() throws {
        let root = try ReferenceExports.root()
        let path = root + "/zimage/checkpoints/sharded"
        let model = try ZImageTurbo(modelPath: path)
        var checked = false
        var encoderMappedAfterEncoding = true
        _ = try model.generate(prompt: "a red fox", seed: 1, steps: 2, width: 32, height: 32, context: ctx) { event in
            let maps = self.mappedPaths()
            switch event {
            case .promptEncoded:
                encoderMappedAfterEncoding = maps.contains { $0.contains("/zimage/checkpoints/sharded/text_encoder/") }
            case .denoisingStarted:
                XCTAssertFalse(maps.contains { $0.contains("/zimage/checkpoints/sharded/text_encoder/") }, "text encoder still mapped")
                XCTAssertTrue(maps.contains { $0.contains("/zimage/checkpoints/sharded/transformer/") }, "transformer not mapped")
                checked = true
            default: break
            }
        }
        XCTAssertTrue(checked)
        XCTAssertFalse(encoderMappedAfterEncoding, "the encoder is released as soon as the prompt is encoded")
    }

    func testBadInputs() throws {
        let root = try ReferenceExports.root()
        let model = try ZImageTurbo(modelPath: root + "/zimage/checkpoints/base")
        for (prompt, w, h, steps) in [("", 32, 32, 2), ("a cat", 30, 32, 2), ("a cat", 32, 0, 2), ("a cat", 32, 32, 0)] {
            XCTAssertThrowsError(try model.generate(prompt: prompt, seed: 1, steps: steps, width: w, height: h, context: ctx))
        }
        XCTAssertThrowsError(try ZImageTurbo(modelPath: root + "/klein/checkpoints/base")) { XCTAssertTrue("\($0)".contains("Flux2KleinPipeline"), "\($0)") }
        XCTAssertThrowsError(try ZImageTurbo(modelPath: root + "/nowhere"))
    }
}
