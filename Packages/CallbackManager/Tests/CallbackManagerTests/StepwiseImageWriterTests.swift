import CallbackManager
import Foundation
import ImageIO
import TensorKit
import XCTest

final class StepwiseImageWriterTests: XCTestCase {
    let info = LoopInfo(seed: 42, prompt: "a cat", width: 3, height: 2, sigmas: [1, 2.0 / 3, 1.0 / 3, 0])

    func directory() throws -> String {
        let dir = NSTemporaryDirectory() + "stepwise-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir + "/nested"
    }

    /// A decoder painting every pixel with the latents' first value (the step number).
    func manager(_ writer: StepwiseImageWriter) -> CallbackManager {
        let m = CallbackManager()
        m.register(writer)
        m.decoder = { latents in
            let v = UInt8(latents.scalars(as: Float.self)[0] * 10)
            return try RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: v, count: 18))
        }
        return m
    }

    func testOnePNGPerStepAndTheComposite() throws {
        let dir = try directory()
        let writer = StepwiseImageWriter(directory: dir)
        let m = manager(writer)
        XCTAssertTrue(m.needsDecoder)
        try runFakeLoop(m, info: info)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["seed_42_composite.png", "seed_42_step1of3.png", "seed_42_step2of3.png", "seed_42_step3of3.png"])
        XCTAssertEqual(writer.written.count, 4)
        let (strip, text) = try PNG.read(dir + "/seed_42_composite.png")
        XCTAssertEqual(strip.width, 9)
        XCTAssertEqual(strip.height, 2)
        // Frame k (0-based) holds the value 10·(k+1) in columns 3k..<3k+3.
        for y in 0..<2 { for x in 0..<9 { XCTAssertEqual(strip.pixels[(y * 9 + x) * 3], UInt8(10 * (x / 3 + 1))) } }
        XCTAssertEqual(text.first { $0.key == "seed" }?.value, "42")
        let (step2, _) = try PNG.read(dir + "/seed_42_step2of3.png")
        XCTAssertEqual(step2.pixels, [UInt8](repeating: 20, count: 18))
    }

    func testInterruptionKeepsTheStepsAndWritesTheirComposite() throws {
        let dir = try directory()
        let m = manager(StepwiseImageWriter(directory: dir))
        XCTAssertThrowsError(try runFakeLoop(m, info: info, cancelAfter: 1))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["seed_42_composite.png", "seed_42_step1of3.png"])
        XCTAssertEqual(try PNG.read(dir + "/seed_42_composite.png").image.width, 3)
    }

    func testExistingFilesAreNeverOverwritten() throws {
        let dir = try directory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/seed_42_step1of3.png"))
        try runFakeLoop(manager(StepwiseImageWriter(directory: dir)), info: info)
        XCTAssertEqual(try String(contentsOfFile: dir + "/seed_42_step1of3.png", encoding: .utf8), "keep")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/seed_42_step1of3_1.png"))
    }

    func testMissingDecoderIsAnError() throws {
        let m = CallbackManager()
        m.register(StepwiseImageWriter(directory: try directory()))
        XCTAssertThrowsError(try runFakeLoop(m, info: info)) { XCTAssertTrue("\($0)".contains("decoder"), "\($0)") }
    }

    func testCompositeOfDifferentHeights() throws {
        let a = try RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
        let b = try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 9, count: 12))
        let s = try CompositeImage.strip([a, b])
        XCTAssertEqual(s.width, 3)
        XCTAssertEqual(s.height, 2)
        XCTAssertEqual(s.pixels, [1, 2, 3, 9, 9, 9, 9, 9, 9, 0, 0, 0, 9, 9, 9, 9, 9, 9])
        XCTAssertThrowsError(try CompositeImage.strip([]))
    }
}
