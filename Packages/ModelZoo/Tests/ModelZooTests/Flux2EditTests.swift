import Foundation
import ImageIO
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// FLUX.2-klein editing against diffusers' `Flux2KleinPipeline(image=[...])` (case
/// klein/cases/edit_two_refs: references 101x75 and 70x141, output 96x64 from the first): the
/// preprocessing, the reference tokens and ids, the first transformer call and the image.
final class Flux2EditTests: XCTestCase {
    let ctx = try! ComputeContext()

    func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        let x = a.floats(context: ctx), y = b.floats(context: ctx)
        XCTAssertEqual(x.count, y.count)
        return zip(x, y).map { abs($0 - $1) }.max() ?? 0
    }

    func testReferenceTokensAndImageMatchDiffusers() throws {
        let c = try ReferenceCase("klein/cases/edit_two_refs")
        let root = try ReferenceExports.root()
        let refs = try c.manifestValue("reference_images")!.arrayValue!.map { try PNG.read(root + "/" + $0.stringValue!).image }
        XCTAssertEqual(refs.count, 2)
        let model = try Flux2Klein(modelPath: c.checkpointPath!)
        let vae = try model.loadDecoder()
        for (i, image) in refs.enumerated() {
            XCTAssertEqual(image.pixels, try c.tensor("edit.ref.\(i).input.uint8").scalars(as: UInt8.self))
            let x = try Flux2ReferenceImages.preprocess(image, index: i)
            XCTAssertEqual(maxDiff(x, try c.tensor("edit.ref.\(i).vae.encode.in")), 0, "ref \(i) preprocessing")
            XCTAssertLessThan(maxDiff(try vae.encodeMode(x, context: ctx), try c.tensor("edit.ref.\(i).vae.encode.mean")), 1e-4, "ref \(i) mode")
        }
        XCTAssertTrue(Flux2ReferenceImages.encodedSize(width: 101, height: 75) == (96, 64))
        XCTAssertTrue(Flux2ReferenceImages.encodedSize(width: 1200, height: 1000) == (1120, 928), "area limit: int(W·s), then floor 16")
        let tokens = try Flux2ReferenceImages.tokens(refs, vae: vae, context: ctx)
        XCTAssertLessThan(maxDiff(tokens.tokens.reshaped([1] + tokens.tokens.shape), try c.tensor("edit.image_latents")), 1e-4)
        XCTAssertEqual(tokens.ids.flatMap { $0 }, try c.tensor("edit.image_latent_ids").integers())

        let (w, h) = (c.manifestValue("width")!.intValue!, c.manifestValue("height")!.intValue!)
        let request = GenerationRequest(prompt: c.manifestValue("prompt")!.stringValue!, seed: UInt64(c.manifestValue("seed")!.intValue!),
                                        steps: c.manifestValue("steps")!.intValue!, width: w, height: h,
                                        guidance: Float(c.manifestValue("guidance_scale")!.doubleValue!), referenceImages: refs)
        let image = try Generator(model: model).generate(request, imageIndex: 0, imageCount: 1, context: ctx)
        let ours = image.pixels.scalars(as: UInt8.self), expected = try c.tensor("image.uint8").scalars(as: UInt8.self)
        let diffs = zip(ours, expected).map { abs(Int($0) - Int($1)) }
        let frac = Double(diffs.filter { $0 <= 1 }.count) / Double(expected.count)
        print("measured klein edit: \(frac) within 1 level, max difference \(diffs.max() ?? 0)")
        XCTAssertGreaterThanOrEqual(frac, 0.99)
        XCTAssertLessThanOrEqual(diffs.max() ?? 99, 3)
    }

    func testBadReferenceImagesAreRefused() throws {
        let small = try RGBImage(width: 63, height: 100, pixels: [UInt8](repeating: 9, count: 63 * 100 * 3))
        let thin = try RGBImage(width: 64, height: 520, pixels: [UInt8](repeating: 9, count: 64 * 520 * 3))
        XCTAssertThrowsError(try Flux2ReferenceImages.check(small, index: 0)) { XCTAssertTrue("\($0)".contains("too small"), "\($0)") }
        XCTAssertThrowsError(try Flux2ReferenceImages.check(thin, index: 1)) { XCTAssertTrue("\($0)".contains("aspect ratio"), "\($0)") }
        let z = try ZImageTurbo(modelPath: try ReferenceExports.root() + "/zimage/checkpoints/base")
        let request = GenerationRequest(prompt: "p", seed: 1, steps: 1, width: 32, height: 32, referenceImages: [thin])
        XCTAssertThrowsError(try Generator(model: z).generate(request, imageIndex: 0, imageCount: 1, context: ctx)) {
            XCTAssertTrue("\($0)".contains("does not take reference images"), "\($0)")
        }
    }
}
