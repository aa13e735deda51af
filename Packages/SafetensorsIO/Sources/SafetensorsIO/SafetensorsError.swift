/// Why a safetensors file or sharded checkpoint cannot be read or written. Every case renders as
/// one line naming the file (and tensor where relevant).
public enum SafetensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file cannot be opened, mapped, read or written.
    case io(path: String, reason: String)
    /// The file is shorter than the 8-byte header length prefix.
    case truncatedPrefix(path: String, size: Int)
    /// The header length exceeds the format's limit.
    case headerTooLarge(path: String, length: UInt64)
    /// The header length runs past the end of the file.
    case headerPastEnd(path: String, length: UInt64, fileSize: Int)
    /// The header is not a valid UTF-8 JSON object of the expected form.
    case invalidHeader(path: String, reason: String)
    /// A tensor names a dtype safetensors does not define.
    case unknownDType(path: String, tensor: String, dtype: String)
    /// A tensor's shape has a negative, non-integer or overflowing dimension.
    case invalidShape(path: String, tensor: String, reason: String)
    /// A tensor's data offsets are malformed, outside the data, overlapping or leave a hole.
    case invalidOffsets(path: String, tensor: String, reason: String)
    /// shape x dtype size differs from the byte length of a tensor's data.
    case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
    /// The tensors do not cover the whole data section.
    case incompleteData(path: String, covered: Int, dataSize: Int)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(path: String, reason: String)
    /// A requested tensor does not exist.
    case missingTensor(path: String, tensor: String)
    /// A sharded checkpoint's index is malformed or inconsistent with its shards.
    case invalidIndex(path: String, reason: String)
    /// A file that must be written already exists and the policy is to refuse.
    case fileExists(path: String)
    /// A tensor cannot be written (e.g. two tensors with one name).
    case invalidTensor(name: String, reason: String)

    /// The case's name ("invalidHeader", "missingTensor", ...), for tests and logs.
    public var kind: String {
        switch self {
        case .io: return "io"
        case .truncatedPrefix: return "truncatedPrefix"
        case .headerTooLarge: return "headerTooLarge"
        case .headerPastEnd: return "headerPastEnd"
        case .invalidHeader: return "invalidHeader"
        case .unknownDType: return "unknownDType"
        case .invalidShape: return "invalidShape"
        case .invalidOffsets: return "invalidOffsets"
        case .sizeMismatch: return "sizeMismatch"
        case .incompleteData: return "incompleteData"
        case .invalidMetadata: return "invalidMetadata"
        case .missingTensor: return "missingTensor"
        case .invalidIndex: return "invalidIndex"
        case .fileExists: return "fileExists"
        case .invalidTensor: return "invalidTensor"
        }
    }

    public var description: String {
        switch self {
        case let .io(p, r): return "\(p): \(r)"
        case let .truncatedPrefix(p, s): return "\(p): truncated safetensors file (\(s) bytes, less than the 8-byte header length)"
        case let .headerTooLarge(p, l): return "\(p): safetensors header length \(l) exceeds the \(SafetensorsFile.maxHeaderLength)-byte limit"
        case let .headerPastEnd(p, l, s): return "\(p): safetensors header length \(l) runs past the end of the file (\(s) bytes)"
        case let .invalidHeader(p, r): return "\(p): invalid safetensors header: \(r)"
        case let .unknownDType(p, t, d): return "\(p): tensor \(t) has unknown dtype \"\(d)\""
        case let .invalidShape(p, t, r): return "\(p): tensor \(t) has an invalid shape: \(r)"
        case let .invalidOffsets(p, t, r): return "\(p): tensor \(t) has invalid data offsets: \(r)"
        case let .sizeMismatch(p, t, e, a): return "\(p): tensor \(t) needs \(e) bytes for its shape and dtype but its offsets span \(a)"
        case let .incompleteData(p, c, d): return "\(p): tensors cover \(c) of the \(d) data bytes"
        case let .invalidMetadata(p, r): return "\(p): invalid __metadata__: \(r)"
        case let .missingTensor(p, t): return "\(p): no tensor named \(t)"
        case let .invalidIndex(p, r): return "\(p): \(r)"
        case let .fileExists(p): return "\(p) already exists (not overwritten)"
        case let .invalidTensor(n, r): return "tensor \(n): \(r)"
        }
    }
}
