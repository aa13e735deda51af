import ArgumentParser
import Foundation
import ModelZoo
import TensorKit

/// The `mflux` command: text-to-image generation on the CPU (models arrive in later versions)
/// and the porting tools.
@main
struct MFlux: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mflux",
        abstract: "State-of-the-art text-to-image models on any CPU.",
        subcommands: [Generate.self, Save.self, Info.self, Models.self, Tokenize.self, Inspect.self]
    )

    @Flag(name: .long, help: "Print the version, the BLAS kernels in use, the kernel path and the thread counts.")
    var version = false

    /// Parses and runs. This is the one place errors are reported: any error (argument, file,
    /// model, CLIError) becomes one line on stderr (`mflux: error: ...`) with a non-zero exit code
    /// (1; argument errors keep ArgumentParser's 64; a run stopped by a signal exits 128 + the
    /// signal, e.g. 130 for Ctrl-C); help and completion scripts go to stdout.
    static func main() {
        // Past a file-size limit, write() fails with EFBIG (reported in one line) instead of the
        // process being killed by SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            var code = exitCode(for: error)
            if case .cancelled(_, let signal)? = error as? ModelError { code = ExitCode(128 + (signal > 0 ? signal : 2)) }
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let line = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            if !line.isEmpty { FileHandle.standardError.write(Data("mflux: error: \(line)\n".utf8)) }
            Foundation.exit(code.rawValue)
        }
    }

    func run() throws {
        guard version else {
            print(MFlux.helpMessage())
            return
        }
        print(try VersionReport.make())
    }
}
