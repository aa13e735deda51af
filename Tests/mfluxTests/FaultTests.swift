import Foundation
import SafetensorsIO
import TensorKit
import XCTest

/// Faults survived, through the built binary: a full disk (a file-size limit), two processes
/// writing the same output name at once, and damaged checkpoints (truncated, a header that lies
/// about its offsets, another model's shard): one line, a non-zero exit, nothing partial left,
/// existing files untouched, never a crash.
final class FaultTests: XCTestCase {
    static let exports = MFluxBinary.repositoryRoot + "/ReferenceExports"

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-fault-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Runs the binary under `ulimit -f blocks` (the shell's 512- or 1024-byte blocks).
    func runLimited(_ arguments: [String], blocks: Int) throws -> MFluxBinary.Result {
        let binary = try XCTUnwrap(MFluxBinary.path, "the mflux binary")
        try MFluxBinary.checkFresh(binary)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -f \(blocks) && exec \"$0\" \"$@\"", binary] + arguments
        var env = ProcessInfo.processInfo.environment
        for k in ["OPENBLAS_CORETYPE", "HF_HOME", "HF_HUB_CACHE"] { env.removeValue(forKey: k) }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "killed by a signal: \(String(decoding: e, as: UTF8.self))")
        return MFluxBinary.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func testFullDiskIsOneLineAndLeavesNothingPartial() throws {
        let dir = try temporaryDirectory()
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/keep.txt"))
        let r = try runLimited(["generate", "--model", Self.exports + "/zimage/checkpoints/base", "--prompt", "a cat", "--seed", "1",
                                "--steps", "1", "--width", "128", "--height", "128", "--output", dir + "/out.png"], blocks: 8)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderrLines.filter { $0.hasPrefix("mflux: error:") }.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("File too large") || r.stderr.contains("write failed"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["keep.txt"], "no partial image, no temporary file")
        // mflux save: no partial folder either.
        let s = try runLimited(["save", "--model", Self.exports + "/zimage/checkpoints/bf16", "-q", "4", "--path", dir + "/saved"], blocks: 8)
        XCTAssertNotEqual(s.status, 0)
        XCTAssertEqual(s.stderrLines.filter { $0.hasPrefix("mflux: error:") }.count, 1, s.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["keep.txt"])
        XCTAssertEqual(try String(contentsOfFile: dir + "/keep.txt", encoding: .utf8), "keep")
    }

    func testTwoProcessesWritingTheSameNameKeepBothImages() throws {
        let dir = try temporaryDirectory()
        func args(_ seed: Int) -> [String] {
            ["generate", "--model", Self.exports + "/zimage/checkpoints/base", "--prompt", "a cat", "--seed", "\(seed)",
             "--steps", "2", "--width", "64", "--height", "64", "--output", dir + "/same.png"]
        }
        let a = try MFluxBinary.start(args(1)), b = try MFluxBinary.start(args(2))
        for (p, out, err) in [a, b] {
            _ = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, String(decoding: e, as: UTF8.self))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(files, ["same.png", "same_1.png"])
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/same.png")), try Data(contentsOf: URL(fileURLWithPath: dir + "/same_1.png")))
    }

    func testDamagedCheckpointsAreOneLineErrorsNamingTheFile() throws {
        let dir = try temporaryDirectory()
        let fm = FileManager.default
        func copy(_ name: String) throws -> String {
            let path = dir + "/" + name
            try fm.copyItem(atPath: Self.exports + "/zimage/checkpoints/base", toPath: path)
            return path
        }
        let weights = "/transformer/diffusion_pytorch_model.safetensors"
        // Truncated: the last 1000 bytes gone.
        let truncated = try copy("truncated")
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: truncated + weights))
        let size = try h.seekToEnd()
        try h.truncate(atOffset: size - 1000)
        try h.close()
        // A header that lies: the first tensor's end offset pushed past the data.
        let lying = try copy("lying")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: lying + weights)))
        let n = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        let range = try XCTUnwrap(header.range(of: #""data_offsets":\[0,\d+\]"#, options: .regularExpression))
        // The end offset rewritten with as many digits, all 9s (or 8s): the header keeps its length.
        let original = String(header[range])
        let digits = original.drop { $0 != "," }.dropFirst().dropLast()
        let nines = String(repeating: "9", count: digits.count)
        let forged = "\"data_offsets\":[0," + (nines == String(digits) ? String(repeating: "8", count: digits.count) : nines) + "]"
        header.replaceSubrange(range, with: forged)
        XCTAssertEqual(header.utf8.count, n, "the forged header keeps its length")
        bytes.replaceSubrange(8..<(8 + n), with: Array(header.utf8))
        try Data(bytes).write(to: URL(fileURLWithPath: lying + weights))
        // Another model's shard in place of the transformer's.
        let swapped = try copy("swapped")
        try fm.removeItem(atPath: swapped + weights)
        try fm.copyItem(atPath: Self.exports + "/klein/checkpoints/base/transformer/diffusion_pytorch_model.safetensors", toPath: swapped + weights)

        for (folder, words) in [(truncated, "diffusion_pytorch_model.safetensors"), (lying, "diffusion_pytorch_model.safetensors"),
                                (swapped, "diffusion_pytorch_model.safetensors: not this model's transformer")] {
            let r = try MFluxBinary.run(["generate", "--model", folder, "--prompt", "a cat", "--seed", "1", "--steps", "1",
                                         "--width", "32", "--height", "32", "--output", dir + "/never.png"])
            XCTAssertNotEqual(r.status, 0, folder)
            XCTAssertLessThan(r.status, 128, "\(folder): killed by a signal")
            let errors = r.stderrLines.filter { $0.hasPrefix("mflux: error:") }
            XCTAssertEqual(errors.count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(words), "\(folder): \(r.stderr)")
            // Found when the folder is opened: nothing was loaded or computed.
            XCTAssertFalse(r.stderr.contains("loaded "), "\(folder): \(r.stderr)")
        }
        XCTAssertFalse(fm.fileExists(atPath: dir + "/never.png"))
    }
}
