import TensorKit

/// A memory-mapped `.safetensors` file with a validated header.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"k": "v"}}`), then the data section. Validation follows the reference
/// implementation: N within the 100 MB limit and inside the file, a JSON object, known dtypes,
/// non-negative shapes whose byte size (without overflow) equals each tensor's offset span,
/// offsets contiguous from 0 without overlap or holes, and the tensors covering the whole data
/// section. Tensors are returned zero-copy (copied only when misaligned for their dtype).
public final class SafetensorsFile: TensorSource, @unchecked Sendable {
    // Audited @unchecked Sendable: all stored properties are immutable after init; the mapping
    // is read-only.

    /// The header length limit of the reference implementation (100 MB).
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// The file (or index) path as given.
    public let path: String
    /// The mapped file.
    public let file: MappedFile
    /// Byte offset of the data section (8 + header length).
    public let dataStart: Int
    /// Header entries by name.
    public let infos: [String: TensorInfo]
    /// All tensor names, sorted.
    public let tensorNames: [String]
    /// String metadata (`__metadata__`).
    public let metadata: [String: String]

    /// Maps and validates `path`. Throws a ``SafetensorsError`` naming the problem.
    public init(path: String) throws(SafetensorsError) {
        self.path = path
        do throws(TensorError) {
            file = try MappedFile(path: path)
        } catch {
            throw .io(path: path, reason: error.description)
        }
        let size = file.byteCount
        guard size >= 8 else { throw .truncatedPrefix(path: path, size: size) }
        let prefix = file.bytes(offset: 0, count: 8)
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(prefix[i]) }
        guard n <= SafetensorsFile.maxHeaderLength else { throw .headerTooLarge(path: path, length: n) }
        guard n <= UInt64(size - 8) else { throw .headerPastEnd(path: path, length: n, fileSize: size) }
        let headerLength = Int(n)
        dataStart = 8 + headerLength
        let headerBytes = Array(file.bytes(offset: 8, count: headerLength))
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw .invalidHeader(path: path, reason: "not valid UTF-8")
        }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw .invalidHeader(path: path, reason: "does not start with '{'")
        }
        let json: JSONValue
        do throws(JSONParser.Failure) {
            json = try JSONParser.parse(headerBytes)
        } catch {
            throw .invalidHeader(path: path, reason: error.description)
        }
        guard let pairs = json.objectValue else { throw .invalidHeader(path: path, reason: "not a JSON object") }
        var infos: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in pairs {
            if name == "__metadata__" {
                guard let entries = value.objectValue else { throw .invalidMetadata(path: path, reason: "not an object") }
                for (k, v) in entries {
                    guard let s = v.stringValue else { throw .invalidMetadata(path: path, reason: "value of \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            infos[name] = try SafetensorsFile.parseInfo(name: name, value, path: path)
        }
        // Offsets must tile the data section exactly: sorted by offset, each starting where the
        // previous one ended.
        let dataSize = size - dataStart
        var end = 0
        for (name, info) in infos.sorted(by: { ($0.value.dataOffsets.lowerBound, $0.value.dataOffsets.upperBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.value.dataOffsets.upperBound, $1.key) }) {
            let r = info.dataOffsets
            if r.lowerBound < end {
                throw .invalidOffsets(path: path, tensor: name, reason: "[\(r.lowerBound), \(r.upperBound)) overlaps the previous tensor (ending at \(end))")
            }
            if r.lowerBound > end {
                throw .invalidOffsets(path: path, tensor: name, reason: "[\(r.lowerBound), \(r.upperBound)) leaves a hole after byte \(end)")
            }
            if r.upperBound > dataSize {
                throw .invalidOffsets(path: path, tensor: name, reason: "[\(r.lowerBound), \(r.upperBound)) runs past the data section (\(dataSize) bytes)")
            }
            end = r.upperBound
        }
        guard end == dataSize else { throw .incompleteData(path: path, covered: end, dataSize: dataSize) }
        self.infos = infos
        self.metadata = metadata
        tensorNames = infos.keys.sorted()
    }

    static func parseInfo(name: String, _ value: JSONValue, path: String) throws(SafetensorsError) -> TensorInfo {
        guard let fields = value.objectValue else {
            throw .invalidHeader(path: path, reason: "entry for tensor \(name) is not an object")
        }
        _ = fields  // unknown fields are ignored, as the reference implementation does
        guard let dtypeName = value["dtype"]?.stringValue else {
            throw .invalidHeader(path: path, reason: "tensor \(name) has no string \"dtype\"")
        }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            throw .unknownDType(path: path, tensor: name, dtype: dtypeName)
        }
        guard let dims = value["shape"]?.arrayValue else {
            throw .invalidShape(path: path, tensor: name, reason: "no \"shape\" array")
        }
        var shape: [Int] = []
        for d in dims {
            guard let v = d.intValue else { throw .invalidShape(path: path, tensor: name, reason: "dimension \(d) is not an integer") }
            guard v >= 0 else { throw .invalidShape(path: path, tensor: name, reason: "negative dimension \(v)") }
            shape.append(v)
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue else {
            throw .invalidOffsets(path: path, tensor: name, reason: "\"data_offsets\" is not a pair of integers")
        }
        guard begin >= 0, end >= begin else {
            throw .invalidOffsets(path: path, tensor: name, reason: "[\(begin), \(end)) is not a valid range")
        }
        guard let count = Tensor.elementCount(shape) else {
            throw .invalidShape(path: path, tensor: name, reason: "\(shape) overflows")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw .invalidShape(path: path, tensor: name, reason: "\(shape) x \(dtype.safetensorsName) overflows") }
        guard bytes == end - begin else {
            throw .sizeMismatch(path: path, tensor: name, expected: bytes, actual: end - begin)
        }
        return TensorInfo(dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    /// The header entry of `name`, or nil.
    public func info(_ name: String) -> TensorInfo? { infos[name] }

    /// The tensor `name` (zero-copy when aligned); throws ``SafetensorsError/missingTensor(path:tensor:)``.
    public func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        guard let info = infos[name] else { throw .missingTensor(path: path, tensor: name) }
        do throws(TensorError) {
            return try Tensor(mapping: file, offset: dataStart + info.dataOffsets.lowerBound, shape: info.shape, dtype: info.dtype)
        } catch {
            throw .invalidOffsets(path: path, tensor: name, reason: error.description)
        }
    }
}
