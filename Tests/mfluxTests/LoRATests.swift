import Foundation
import ImageIO
import SafetensorsIO
import XCTest

/// `mflux generate --lora-paths --lora-scales` through the built binary: two LoRAs of different
/// key formats at 0.8 and 1.3 give diffusers' image from the seed alone (both models); the same
/// on a `-q 8` model stays within the quantization tolerance of the float LoRA image; a LoRA from
/// the Hugging Face cache resolves; bad LoRA input is one line and a non-zero exit.
final class LoRACLITests: XCTestCase {
    static let exports = MFluxBinary.repositoryRoot + "/ReferenceExports"

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-lora-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func caseArgs(_ name: String) throws -> [String] {
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.exports)/\(name)/manifest.json"))) as! [String: Any]
        let adapters = (m["lora"] as! [String: Any])["adapters"] as! [[String: Any]]
        let args = ["generate", "--model", "\(Self.exports)/\(m["checkpoint"] as! String)", "--prompt", m["prompt"] as! String,
                    "--seed", "\(m["seed"] as! Int)", "--steps", "\(m["steps"] as! Int)", "--width", "\(m["width"] as! Int)",
                    "--height", "\(m["height"] as! Int)", "--guidance", "\(m["guidance_scale"] as! Double)", "--precision", "fp32",
                    "--lora-paths"] + adapters.map { "\(Self.exports)/\($0["file"] as! String)" }
            + ["--lora-scales"] + adapters.map { "\(($0["set_adapters_weight"] as? Double) ?? 1)" }
        return args
    }

    func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        let mse = zip(a, b).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(b.count)
        return 10 * log10(255 * 255 / max(mse, 1e-12))
    }

    func testTwoLoRAsMatchDiffusersAndRunQuantized() throws {
        let dir = try temporaryDirectory()
        // -q 8 bars: the measured PSNR against the float LoRA image minus 3 dB (as for -q 8 without LoRA).
        for (name, q8Bar) in [("zimage/cases/lora_two_adapters", 43.0), ("klein/cases/lora_two_adapters", 46.0)] {
            let args = try caseArgs(name)
            let out = dir + "/\(name.split(separator: "/")[0]).png"
            let r = try MFluxBinary.run(args + ["--output", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            let (image, text) = try PNG.read(out)
            try assertMatchesReference(name, image)
            XCTAssertEqual(text.first { $0.key == "lora_scales" }?.value, "0.8 1.3")
            let q = dir + "/\(name.split(separator: "/")[0])_q8.png"
            let rq = try MFluxBinary.run(args + ["-q", "8", "--output", q])
            XCTAssertEqual(rq.status, 0, rq.stderr)
            let p = psnr(try PNG.read(q).image.pixels, image.pixels)
            print(String(format: "measured %@ -q 8 vs float LoRA image: PSNR %.1f dB", name, p))
            XCTAssertGreaterThanOrEqual(p, q8Bar, name)
            XCTAssertLessThan(p, 80, "\(name): the quantized run differs")
        }
    }

    func testLoRAFromTheHuggingFaceCache() throws {
        let dir = try temporaryDirectory()
        let repo = dir + "/hub/models--someone--tiny-lora"
        try FileManager.default.createDirectory(atPath: repo + "/snapshots/abc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repo + "/refs", withIntermediateDirectories: true)
        try "abc".write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: "\(Self.exports)/lora/zimage/diffusers.safetensors", toPath: repo + "/snapshots/abc/style.safetensors")
        let args = try caseArgs("zimage/cases/lora_diffusers")
        var a = Array(args.prefix { $0 != "--lora-paths" })
        a += ["--lora-paths", "someone/tiny-lora", "--output", dir + "/a.png"]
        let r = try MFluxBinary.run(a, environment: ["HF_HUB_CACHE": dir + "/hub"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var b = Array(args.prefix { $0 != "--lora-paths" })
        b += ["--lora-paths", "someone/tiny-lora:style.safetensors", "--output", dir + "/b.png"]
        XCTAssertEqual(try MFluxBinary.run(b, environment: ["HF_HUB_CACHE": dir + "/hub"]).status, 0)
        XCTAssertEqual(try PNG.read(dir + "/a.png").image.pixels, try PNG.read(dir + "/b.png").image.pixels)
        try assertMatchesReference("zimage/cases/lora_diffusers", try PNG.read(dir + "/a.png").image)
    }

    func testBadLoRAInputsGiveOneLineAndNonZeroExit() throws {
        let dir = try temporaryDirectory()
        let z = ["generate", "--model", "\(Self.exports)/zimage/checkpoints/base", "--prompt", "p", "--seed", "1", "--steps", "1",
                 "--width", "32", "--height", "32", "--output", dir + "/o.png"]
        let lora = "\(Self.exports)/lora"
        let cases: [([String], String)] = [
            (z + ["--lora-paths", "\(lora)/zimage/kohya.safetensors", "--lora-scales", "1", "2"], "--lora-scales has 2 values for 1 --lora-paths"),
            (z + ["--lora-paths", "\(lora)/zimage/unmatched_key.safetensors"], "match"),
            (z + ["--lora-paths", "\(lora)/klein/bfl.safetensors"], "is for FLUX.2, not Z-Image"),
            (z + ["--lora-paths", dir + "/none.safetensors"], "does not exist"),
            (z + ["--lora-paths", "nobody/no-such-lora"], "not in the Hugging Face cache"),
        ]
        for (args, message) in cases {
            let r = try MFluxBinary.run(args, environment: ["HF_HUB_CACHE": dir])
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").filter { !$0.hasPrefix("loaded") }.count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o.png"))
    }
}
