/// Why an image cannot be encoded, decoded, read or written (one line).
public enum ImageIOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Size or pixel count does not describe an RGB image.
    case invalidImage(String)
    /// A text chunk's keyword or value cannot be stored.
    case invalidText(String)
    /// The bytes are not a readable PNG.
    case decode(String)
    /// libpng could not encode the image.
    case encode(String)
    /// The file cannot be read or written.
    case io(String)
    /// The destination exists and the policy is to refuse.
    case fileExists(String)

    public var description: String {
        switch self {
        case .invalidImage(let m), .invalidText(let m), .decode(let m), .encode(let m), .io(let m): return m
        case .fileExists(let p): return "\(p) already exists (not overwritten)"
        }
    }
}
