import Foundation
import XCTest

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

    /// `$MFLUX_BIN`, else `<root>/.build/release/mflux`, else `<root>/.build/debug/mflux`.
    static var path: String? {
        if let p = ProcessInfo.processInfo.environment["MFLUX_BIN"], !p.isEmpty { return p }
        for config in ["release", "debug"] {
            let p = repositoryRoot + "/.build/\(config)/mflux"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String { "mflux binary not found: build it (scripts/test builds .build/release/mflux) or set MFLUX_BIN" }
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// Runs mflux with `arguments`; fails the test when the binary is missing.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        guard let path else {
            // A missing binary is a failure, never a skip.
            throw MissingBinary()
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "OPENBLAS_CORETYPE")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
