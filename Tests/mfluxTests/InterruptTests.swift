import Foundation
import XCTest

/// Ctrl-C (SIGINT) and SIGTERM during a multi-step run of the built binary: it stops after the
/// current step, exits 128 + signal with one line, keeps the stepwise images written so far
/// (and their composite), and leaves no image file, partial or otherwise.
final class InterruptTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-int-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func interrupt(with signal: Int32) throws {
        let dir = try temporaryDirectory()
        let model = MFluxBinary.repositoryRoot + "/ReferenceExports/zimage/checkpoints/base"
        let (p, out, err) = try MFluxBinary.start(["generate", "--model", model, "--prompt", "a cat", "--seed", "1", "--steps", "1000",
                                                   "--width", "256", "--height", "256", "--output", dir + "/cat.png",
                                                   "--stepwise-image-output-dir", dir + "/steps"])
        // Wait for the first finished step, then signal.
        var log = Data()
        let deadline = Date().addingTimeInterval(120)
        while !String(decoding: log, as: UTF8.self).contains("step 1/1000") && Date() < deadline && p.isRunning {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log.append(chunk)
        }
        XCTAssertTrue(p.isRunning, "the run is still going when the signal is sent")
        kill(p.processIdentifier, signal)
        log.append(err.fileHandleForReading.readDataToEndOfFile())
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: log, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 128 + signal, text)
        let errors = text.split(separator: "\n").filter { $0.hasPrefix("mflux: error: ") }
        XCTAssertEqual(errors.count, 1, text)
        XCTAssertTrue(errors.first?.contains("interrupted after step ") ?? false, text)
        XCTAssertTrue(errors.first?.contains("/1000; no image written") ?? false, text)
        XCTAssertTrue(stdout.isEmpty)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["steps"], "no image, no temporary file")
        let steps = try FileManager.default.contentsOfDirectory(atPath: dir + "/steps")
        let stepImages = steps.filter { $0.contains("_step") }
        XCTAssertGreaterThanOrEqual(stepImages.count, 1)
        XCTAssertLessThan(stepImages.count, 1000)
        XCTAssertTrue(steps.contains("seed_1_composite.png"), "\(steps)")
        XCTAssertTrue(steps.allSatisfy { $0.hasSuffix(".png") && !$0.hasPrefix(".") }, "\(steps)")
    }

    func testCtrlCStopsAfterTheCurrentStep() throws { try interrupt(with: SIGINT) }

    func testSIGTERMStopsAfterTheCurrentStep() throws { try interrupt(with: SIGTERM) }

    /// A signal while the VAE decodes (after the only step): exit 128 + signal with one line, no
    /// image written (the decoded pixels are dropped).
    func testSIGTERMWhileDecodingWritesNothing() throws {
        let dir = try temporaryDirectory()
        let model = MFluxBinary.repositoryRoot + "/ReferenceExports/zimage/checkpoints/base"
        let (p, out, err) = try MFluxBinary.start(["generate", "--model", model, "--prompt", "a cat", "--seed", "1", "--steps", "1",
                                                   "--width", "1024", "--height", "1024", "--output", dir + "/cat.png"])
        var log = Data()
        let deadline = Date().addingTimeInterval(120)
        while !String(decoding: log, as: UTF8.self).contains("step 1/1") && Date() < deadline && p.isRunning {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log.append(chunk)
        }
        XCTAssertTrue(p.isRunning, "still decoding when the signal is sent")
        kill(p.processIdentifier, SIGTERM)
        log.append(err.fileHandleForReading.readDataToEndOfFile())
        _ = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: log, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM, text)
        let errors = text.split(separator: "\n").filter { $0.hasPrefix("mflux: error: ") }
        XCTAssertEqual(errors.count, 1, text)
        // Usually while decoding; the signal can also land before the decode starts (after the
        // last step, or at the boundary after denoising where the transformer is released).
        XCTAssertTrue(errors.first.map {
            $0.contains("interrupted while decoding") || $0.contains("interrupted after step 1/1") || $0.contains("interrupted after denoising")
        } ?? false, text)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no image, no temporary file")
    }

    /// A signal right after start (loading the model): a clean stop — exit 128 + signal with at
    /// most one line, or the default action of the signal before the handler is installed —
    /// never a crash, and nothing written.
    func testSignalWhileLoadingWritesNothing() throws {
        let dir = try temporaryDirectory()
        let model = MFluxBinary.repositoryRoot + "/ReferenceExports/zimage/checkpoints/base"
        let (p, out, err) = try MFluxBinary.start(["generate", "--model", model, "--prompt", "a cat", "--seed", "1", "--steps", "50",
                                                   "--width", "256", "--height", "256", "--output", dir + "/cat.png"])
        usleep(30_000)
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationReason == .exit {
            XCTAssertEqual(p.terminationStatus, 128 + SIGINT, text)
            XCTAssertLessThanOrEqual(text.split(separator: "\n").filter { $0.hasPrefix("mflux: error: ") }.count, 1, text)
        } else {
            XCTAssertEqual(p.terminationStatus, SIGINT, "killed only by the signal sent: \(text)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "nothing written")
    }
}
