/// Errors thrown by TensorKit.
public enum TensorError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A file could not be opened, read or mapped.
    case io(String)
    /// A shape, dtype or argument is not valid for the operation.
    case invalidArgument(String)
    /// The requested kernel path or library is not available on this machine.
    case unsupported(String)
    /// A file that must be written already exists and the policy is to refuse.
    case fileExists(String)

    public var description: String {
        switch self {
        case .io(let m), .invalidArgument(let m), .unsupported(let m): return m
        case .fileExists(let p): return "\(p) already exists (not overwritten)"
        }
    }
}
