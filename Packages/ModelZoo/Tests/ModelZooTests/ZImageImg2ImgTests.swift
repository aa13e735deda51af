import Foundation
import ImageIO
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// Z-Image image to image against diffusers' `ZImageImg2ImgPipeline` (case
/// zimage/cases/img2img_strength0.6: a 77x58 input resized to 64x48, strength 0.6 of 4 steps):
/// each stage — Pillow's resize, the VAE posterior and its seeded sample, the truncated schedule,
/// the noised start — then the whole generation from the seed.
final class ZImageImg2ImgTests: XCTestCase {
    let ctx = try! ComputeContext()

    func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    func testEveryStageAndTheImageMatchDiffusers() throws {
        let c = try ReferenceCase("zimage/cases/img2img_strength0.6")
        let root = try ReferenceExports.root()
        let input = try PNG.read(root + "/" + c.manifestValue("input_image")!.stringValue!).image
        XCTAssertEqual(input.pixels, try c.tensor("img2img.image_input.uint8").scalars(as: UInt8.self))
        let (w, h) = (c.manifestValue("width")!.intValue!, c.manifestValue("height")!.intValue!)
        // Pillow's LANCZOS, value for value (also at sizes that change the pass order).
        XCTAssertEqual(try Resample.resize(input, width: w, height: h).pixels, try c.tensor("img2img.image_resized.uint8").scalars(as: UInt8.self))
        for (sw, sh) in [(96, 72), (40, 30), (77, 32), (128, 16), (72, 40), (72, 48)] {
            XCTAssertEqual(try Resample.resize(input, width: sw, height: sh).pixels,
                           try c.tensor("img2img.lanczos.\(sw)x\(sh).uint8").scalars(as: UInt8.self), "\(sw)x\(sh)")
        }
        let x = try VAEImageProcessor.preprocess(input, width: w, height: h)
        XCTAssertEqual(maxDiff(x.floats(context: ctx), try c.tensor("img2img.image_in").floats(context: ctx)), 0)

        let model = try ZImageTurbo(modelPath: c.checkpointPath!)
        let decoder = try model.loadDecoder()
        let (mean, logvar) = try decoder.vae.encodeMoments(x, context: ctx)
        XCTAssertLessThan(maxDiff(mean.floats(context: ctx), try c.tensor("img2img.vae.encode.mean").floats(context: ctx)), 1e-4)
        XCTAssertLessThan(maxDiff(logvar.floats(context: ctx), try c.tensor("img2img.vae.encode.logvar").floats(context: ctx)), 1e-4)

        let request = GenerationRequest(prompt: c.manifestValue("prompt")!.stringValue!, seed: UInt64(c.manifestValue("seed")!.intValue!),
                                        steps: c.manifestValue("steps")!.intValue!, width: w, height: h,
                                        image: input, strength: c.manifestValue("strength")!.doubleValue!)
        XCTAssertEqual(request.startIndex, c.manifestValue("t_start")!.intValue!)
        let loop = try model.denoisingLoop(request)
        XCTAssertEqual(loop.startIndex, 1)
        XCTAssertEqual(loop.sigmas, try c.tensor("scheduler.sigmas").floats(context: ctx))
        let start = try model.initialLatents(request, encodingWith: decoder, context: ctx)
        XCTAssertLessThan(maxDiff(start.floats(context: ctx), try c.tensor("img2img.latents.start").floats(context: ctx)), 1e-4)

        let image = try Generator(model: model).generate(request, imageIndex: 0, imageCount: 1, context: ctx)
        let ours = image.pixels.scalars(as: UInt8.self), expected = try c.tensor("image.uint8").scalars(as: UInt8.self)
        let close = zip(ours, expected).filter { abs(Int($0) - Int($1)) <= 1 }.count
        let worst = zip(ours, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        print("measured img2img: \(Double(close) / Double(expected.count)) within 1 level, max difference \(worst)")
        XCTAssertGreaterThanOrEqual(Double(close) / Double(expected.count), 0.99)
        XCTAssertLessThanOrEqual(worst, 3)
    }

    func testStrengthEdgesAsDiffusers() throws {
        let image = try RGBImage(width: 16, height: 16, pixels: [UInt8](repeating: 128, count: 16 * 16 * 3))
        func request(_ s: Double, steps: Int = 4) -> GenerationRequest {
            GenerationRequest(prompt: "p", seed: 1, steps: steps, width: 16, height: 16, image: image, strength: s)
        }
        XCTAssertEqual(request(1).startIndex, 0)
        XCTAssertEqual(request(0.6).startIndex, 1)
        XCTAssertEqual(request(0.56, steps: 25).startIndex, 10, "25 - int(14.000000000000002): 15 steps run, as Python computes")
        XCTAssertThrowsError(try request(0).validate(sizeMultiple: 16)) { XCTAssertTrue("\($0)".contains("none of the 4 steps"), "\($0)") }
        XCTAssertThrowsError(try request(1.5).validate(sizeMultiple: 16)) { XCTAssertTrue("\($0)".contains("[0, 1]"), "\($0)") }
        XCTAssertThrowsError(try request(-0.1).validate(sizeMultiple: 16))
        XCTAssertNoThrow(try request(0.01).validate(sizeMultiple: 16))
    }
}
