import Foundation
import ImageIO
import SafetensorsIO
import XCTest

/// `mflux generate --image-path --image-strength` (mflux's flags; strength = share of the input
/// kept, diffusers' strength = 1 - it) and `--image-paths` (klein editing) through the built
/// binary: diffusers' images from the seed alone; bad inputs give one line and a non-zero exit.
final class ImageToImageTests: XCTestCase {
    static let exports = MFluxBinary.repositoryRoot + "/ReferenceExports"

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-i2i-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testZImageImageToImageMatchesDiffusers() throws {
        let name = "zimage/cases/img2img_strength0.6"
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.exports)/\(name)/manifest.json"))) as! [String: Any]
        let dir = try temporaryDirectory()
        let out = dir + "/i2i.png"
        // No --width/--height: the input's own size rounded down to 16 (77x58 -> 64x48), as diffusers.
        let r = try MFluxBinary.run(["generate", "--model", "\(Self.exports)/\(m["checkpoint"] as! String)", "--prompt", m["prompt"] as! String,
                                     "--seed", "\(m["seed"] as! Int)", "--steps", "\(m["steps"] as! Int)", "--precision", "fp32",
                                     "--image-path", "\(Self.exports)/\(m["input_image"] as! String)",
                                     "--image-strength", "\(1 - (m["strength"] as! Double))", "--output", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (image, text) = try PNG.read(out)
        XCTAssertEqual([image.width, image.height], [m["width"] as! Int, m["height"] as! Int])
        try assertMatchesReference(name, image)
        XCTAssertEqual(text.first { $0.key == "image_strength" }?.value, "0.4")
        XCTAssertTrue(text.first { $0.key == "image_path" }?.value.hasSuffix("input.png") ?? false)
    }

    func testKleinEditingMatchesDiffusers() throws {
        let name = "klein/cases/edit_two_refs"
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.exports)/\(name)/manifest.json"))) as! [String: Any]
        let dir = try temporaryDirectory()
        let out = dir + "/edit.png"
        // No --width/--height: the first reference's encoded size (101x75 -> 96x64), as diffusers.
        let refs = (m["reference_images"] as! [String]).map { "\(Self.exports)/\($0)" }
        let r = try MFluxBinary.run(["generate", "--model", "\(Self.exports)/\(m["checkpoint"] as! String)", "--prompt", m["prompt"] as! String,
                                     "--seed", "\(m["seed"] as! Int)", "--steps", "\(m["steps"] as! Int)", "--precision", "fp32",
                                     "--image-paths"] + refs + ["--output", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (image, text) = try PNG.read(out)
        XCTAssertEqual([image.width, image.height], [m["width"] as! Int, m["height"] as! Int])
        try assertMatchesReference(name, image)
        XCTAssertEqual(text.first { $0.key == "image_paths" }?.value.split(separator: "\n").count, 2)
    }

    func testBadInputsGiveOneLineAndNonZeroExit() throws {
        let dir = try temporaryDirectory()
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/fake.png"))
        let input = "\(Self.exports)/zimage/cases/img2img_strength0.6/input.png"
        let z = ["generate", "--model", "\(Self.exports)/zimage/checkpoints/base", "--prompt", "p", "--seed", "1", "--steps", "2",
                 "--output", dir + "/o.png"]
        let cases: [([String], String)] = [
            (z + ["--image-path", dir + "/missing.png"], "does not exist"),
            (z + ["--image-path", dir + "/fake.png"], "PNG"),
            (z + ["--image-path", input, "--image-strength", "1.5"], "--image-strength must be from 0 to 1"),
            (z + ["--image-path", input, "--image-strength", "1"], "none of the 2 steps"),
            (z + ["--image-strength", "0.5"], "--image-strength needs --image-path"),
            (["generate", "--model", "\(Self.exports)/klein/checkpoints/base", "--prompt", "p", "--seed", "1", "--steps", "2",
              "--image-path", input, "--output", dir + "/k.png"], "does not take an input image"),
            (z + ["--image-paths", input], "does not take reference images"),
            (z + ["--image-paths", dir + "/missing.png"], "reference image"),
            (z + ["--image-path", input, "--image-paths", input], "cannot be combined"),
            (["generate", "--model", "\(Self.exports)/klein/checkpoints/base", "--prompt", "p", "--seed", "1", "--steps", "2",
              "--image-paths", "\(Self.exports)/test_image.png", "--output", dir + "/k.png"], "too small"),
        ]
        for (args, message) in cases {
            let r = try MFluxBinary.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.png"))
    }
}
