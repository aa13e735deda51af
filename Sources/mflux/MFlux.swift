import ArgumentParser
import TensorKit

/// The `mflux` command: text-to-image generation on the CPU (models arrive in later versions)
/// and the porting tools.
@main
struct MFlux: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mflux",
        abstract: "State-of-the-art text-to-image models on any CPU.",
        subcommands: [Inspect.self]
    )

    @Flag(name: .long, help: "Print the version, the BLAS kernels in use, the kernel path and the thread counts.")
    var version = false

    func run() throws {
        guard version else {
            print(MFlux.helpMessage())
            return
        }
        print(try VersionReport.make())
    }
}
