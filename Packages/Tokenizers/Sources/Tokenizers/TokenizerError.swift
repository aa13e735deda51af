/// Why a tokenizer cannot be loaded or used (one line).
public enum TokenizerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A tokenizer file is missing or unreadable.
    case io(String)
    /// The tokenizer files describe something this implementation does not support or are malformed.
    case invalidTokenizer(String)

    public var description: String {
        switch self {
        case .io(let m), .invalidTokenizer(let m): return m
        }
    }
}
