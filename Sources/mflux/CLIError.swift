import ArgumentParser
import Foundation

/// An error the CLI reports as one line on stderr (`mflux: error: ...`) with exit code 1.
struct CLIError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Runs `body`; any error becomes one line on stderr and exit code 1 (never a trap).
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as CLIError {
        fail(e.message)
    } catch let e as ExitCode {
        throw e
    } catch {
        fail(String(describing: error))
    }
}

/// Prints `mflux: error: <message>` (first line only) to stderr and exits with status 1.
func fail(_ message: String) -> Never {
    let line = message.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? message
    FileHandle.standardError.write(Data("mflux: error: \(line)\n".utf8))
    exit(1)
}
