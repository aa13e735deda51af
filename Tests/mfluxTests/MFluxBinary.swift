import Foundation
import XCTest
import ImageIO
import SafetensorsIO
import TensorKit

/// Runs the built `mflux` executable (never through the package manager's run command, which
/// deadlocks on the build lock inside `swift test`).
enum MFluxBinary {
    /// The repository root (the folder holding this package's Package.swift).
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: url.appendingPathComponent("Packages").path) {
                return url.path
            }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// `$MFLUX_BIN`, else `<root>/.build/release/mflux` (never a debug build: the tests measure
    /// the release binary).
    static var path: String? {
        if let p = ProcessInfo.processInfo.environment["MFLUX_BIN"], !p.isEmpty { return p }
        let p = repositoryRoot + "/.build/release/mflux"
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String { "mflux binary not found: build it (scripts/test builds .build/release/mflux) or set MFLUX_BIN" }
    }

    struct StaleBinary: Error, CustomStringConvertible {
        let binary: String, source: String
        var description: String { "\(binary) is older than \(source): rebuild it (swift build -c release --product mflux) before testing" }
    }

    /// The newest source file of the executable and its packages (Swift and C), with its date.
    static let newestSource: (path: String, date: Date)? = {
        let fm = FileManager.default
        var best: (String, Date)?
        let roots = [repositoryRoot + "/Sources"] + ((try? fm.contentsOfDirectory(atPath: repositoryRoot + "/Packages")) ?? [])
            .map { repositoryRoot + "/Packages/" + $0 + "/Sources" }
        for root in roots {
            guard let e = fm.enumerator(atPath: root) else { continue }
            for case let rel as String in e where rel.hasSuffix(".swift") || rel.hasSuffix(".c") || rel.hasSuffix(".h") {
                let p = root + "/" + rel
                if let d = (try? fm.attributesOfItem(atPath: p))?[.modificationDate] as? Date, best == nil || d > best!.1 { best = (p, d) }
            }
        }
        return best
    }()

    /// Fails when a source file changed after the binary was built: newer than the binary and
    /// than every file its build wrote (a rebuild that changed nothing relinks nothing, but its
    /// compiler outputs show it ran).
    static func checkFresh(_ binary: String) throws {
        let fm = FileManager.default
        guard let (source, date) = newestSource,
              let built = (try? fm.attributesOfItem(atPath: binary))?[.modificationDate] as? Date, built < date else { return }
        let dir = (binary as NSString).deletingLastPathComponent
        var newestObject = Date.distantPast
        for sub in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where sub.hasSuffix(".build") {
            for f in (try? fm.contentsOfDirectory(atPath: dir + "/" + sub)) ?? [] {
                if let d = (try? fm.attributesOfItem(atPath: dir + "/" + sub + "/" + f))?[.modificationDate] as? Date, d > newestObject { newestObject = d }
            }
        }
        if newestObject < date { throw StaleBinary(binary: binary, source: source) }
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// A started mflux process with its output pipes (and standard input when given).
    static func start(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
                      currentDirectory: String? = nil) throws -> (Process, Pipe, Pipe) {
        guard let path else {
            // A missing binary is a failure, never a skip.
            throw MissingBinary()
        }
        try checkFresh(path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        // No user settings leak in: OpenBLAS core choice, Hugging Face cache locations.
        for k in ["OPENBLAS_CORETYPE", "HF_HOME", "HF_HUB_CACHE"] { env.removeValue(forKey: k) }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        return (p, out, err)
    }

    /// Runs mflux with `arguments` to the end; fails the test when the binary is missing.
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil,
                    currentDirectory: String? = nil) throws -> Result {
        let (p, out, err) = try start(arguments, environment: environment, stdin: stdin, currentDirectory: currentDirectory)
        // Read both pipes concurrently so that neither fills up and blocks the process.
        let box = ErrBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            box.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: box.data, as: UTF8.self))
    }

    /// Standard error collected on another thread (written once, read after the group wait).
    final class ErrBox: @unchecked Sendable {
        var data = Data()
    }
}

/// `MFLUX_PRESERVE_TEST_OUTPUT=1`: the end-to-end tests keep every image they generate in
/// `<repository>/.test-output/` (git-ignored), each beside a side-by-side PNG for inspection:
/// reference | ours | difference amplified 16x.
enum PreservedOutput {
    static var enabled: Bool { ProcessInfo.processInfo.environment["MFLUX_PRESERVE_TEST_OUTPUT"] == "1" }
    static var folder: String { MFluxBinary.repositoryRoot + "/.test-output" }

    /// Keeps `ours` (`[H, W, 3]` values) as `<name>.png` and, with a reference of the same size,
    /// `<name>.compare.png`.
    static func keep(_ name: String, width: Int, height: Int, ours: [UInt8], reference: [UInt8]?) {
        guard enabled else { return }
        let fm = FileManager.default
        try? fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let base = folder + "/" + name.replacingOccurrences(of: "/", with: "_")
        try? fm.removeItem(atPath: base + ".png")
        try? PNG.write(try RGBImage(width: width, height: height, pixels: ours), to: base + ".png", policy: .replace)
        guard let reference, reference.count == ours.count else { return }
        var side = [UInt8](repeating: 0, count: 3 * width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let i = (y * width + x) * 3 + c
                    let d = min(255, abs(Int(ours[i]) - Int(reference[i])) * 16)
                    for (panel, v) in [(0, reference[i]), (1, ours[i]), (2, UInt8(d))] {
                        side[(y * 3 * width + panel * width + x) * 3 + c] = v
                    }
                }
            }
        }
        try? PNG.write(try RGBImage(width: 3 * width, height: height, pixels: side), to: base + ".compare.png", policy: .replace)
    }
}

/// The image policy against a reference case's `image.uint8`: at least 99 % of values within 1
/// level and none more than 3 apart; keeps the image when ``PreservedOutput`` is on and prints
/// the measured figures.
func assertMatchesReference(_ name: String, _ image: RGBImage, file: StaticString = #filePath, line: UInt = #line) throws {
    let expected = try SafetensorsFile(path: "\(MFluxBinary.repositoryRoot)/ReferenceExports/\(name)/tensors.safetensors")
        .tensor("image.uint8").scalars(as: UInt8.self)
    PreservedOutput.keep(name, width: image.width, height: image.height, ours: image.pixels, reference: expected)
    XCTAssertEqual(image.pixels.count, expected.count, name, file: file, line: line)
    let diffs = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }
    let frac = Double(diffs.filter { $0 <= 1 }.count) / Double(max(expected.count, 1))
    print("measured \(name) mflux generate: \(frac) within 1 level, max difference \(diffs.max() ?? -1)")
    XCTAssertGreaterThanOrEqual(frac, 0.99, "\(name): \(frac) within 1 level", file: file, line: line)
    XCTAssertLessThanOrEqual(diffs.max() ?? 99, 3, "\(name): max difference", file: file, line: line)
}
