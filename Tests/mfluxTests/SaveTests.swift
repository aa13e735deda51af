import Foundation
import ImageIO
import SafetensorsIO
import XCTest

/// `mflux save` through the built binary: `-q 4` then `generate` from the saved folder gives the
/// same image as `generate -q 4` on the source; folders saved by mflux itself generate; bad input
/// gives one line and a non-zero exit, and an existing path is never touched.
final class SaveTests: XCTestCase {
    static let exports = MFluxBinary.repositoryRoot + "/ReferenceExports"

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-save-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func generate(_ model: String, _ out: String, _ extra: [String] = []) throws -> (pixels: [UInt8], text: [(key: String, value: String)], stderr: String) {
        let r = try MFluxBinary.run(["generate", "--model", model, "--prompt", "a red fox", "--seed", "11", "--steps", "2",
                                     "--width", "64", "--height", "64", "--output", out] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        let (image, text) = try PNG.read(out)
        return (image.pixels, text, r.stderr)
    }

    func testSaveQuantizedThenGenerateEqualsQuantizingOnTheFly() throws {
        let dir = try temporaryDirectory()
        for name in ["zimage", "klein"] {
            let source = "\(Self.exports)/\(name)/checkpoints/bf16"
            let saved = dir + "/\(name)-q4"
            let r = try MFluxBinary.run(["save", "--model", source, "-q", "4", "--path", saved])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), saved)
            let fromSaved = try generate(saved, dir + "/\(name)-saved.png")
            let onTheFly = try generate(source, dir + "/\(name)-fly.png", ["-q", "4"])
            XCTAssertEqual(fromSaved.pixels, onTheFly.pixels, "\(name): saved -q 4 vs -q 4 on the fly")
            XCTAssertEqual(fromSaved.text.first { $0.key == "quantize" }?.value, "4")
            // -q on a stored quantized model: one note, the stored bits are used.
            let again = try generate(saved, dir + "/\(name)-q8.png", ["-q", "8"])
            XCTAssertTrue(again.stderr.contains("stored bits win"), again.stderr)
            XCTAssertEqual(again.pixels, fromSaved.pixels)
        }
    }

    func testFoldersSavedByMfluxGenerate() throws {
        let dir = try temporaryDirectory()
        for name in ["zimage-q4", "klein-q8", "klein-bf16"] {
            let image = try generate("\(Self.exports)/mflux/\(name)", dir + "/\(name).png")
            XCTAssertEqual(image.pixels.count, 64 * 64 * 3, name)
            XCTAssertGreaterThan(Set(image.pixels).count, 16, "\(name): not a flat image")
        }
    }

    func testBadInputsGiveOneLineAndNonZeroExit() throws {
        let dir = try temporaryDirectory()
        let source = "\(Self.exports)/zimage/checkpoints/bf16"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/taken"))
        let cases: [([String], String)] = [
            (["save", "--model", source, "-q", "7", "--path", dir + "/x"], "--quantize must be 3, 4, 5, 6 or 8"),
            (["save", "--model", source, "--path", dir + "/taken"], "already exists"),
            (["save", "--model", dir + "/missing", "--path", dir + "/y"], "does not exist"),
            (["save", "--model", dir, "--path", dir + "/z"], "model_index.json"),
        ]
        for (args, message) in cases {
            let r = try MFluxBinary.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "/taken", encoding: .utf8), "keep")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["taken"])
    }
}
