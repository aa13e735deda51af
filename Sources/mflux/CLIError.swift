/// An error the CLI reports as one line on stderr (`mflux: error: ...`) with exit code 1
/// (`MFlux.main` prints every error that way).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
