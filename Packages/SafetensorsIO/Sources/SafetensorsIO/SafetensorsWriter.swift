import TensorKit

/// Writes tensors and string metadata to a `.safetensors` file, atomically.
///
/// Tensors are laid out by decreasing element size, then name (as the Python package does), and
/// the JSON header is padded with spaces to a multiple of 8 bytes, so every tensor's data is
/// aligned for its dtype and can be memory-mapped zero-copy.
public enum SafetensorsWriter {
    /// Writes `tensors` (name -> tensor) and `metadata` to `path` under `policy`.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String,
                             policy: OverwritePolicy = .refuse) throws(SafetensorsError) {
        let entries = tensors.map { Entry(name: $0.key, dtype: $0.value.dtype, shape: $0.value.shape) }
        try write(entries: entries, metadata: metadata, to: path, policy: policy) { name throws(SafetensorsError) in tensors[name]! }
    }

    /// A tensor to be written: its name, dtype and shape, known before its data.
    public struct Entry: Sendable, Equatable {
        /// Tensor name.
        public let name: String
        /// Stored dtype.
        public let dtype: DType
        /// Shape.
        public let shape: [Int]

        /// An entry.
        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }

        /// Bytes of its data.
        public var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
    }

    /// Writes the tensors `entries` describes, asking `tensor` for each one's data in file order
    /// (one at a time: a large file never needs all of its tensors in memory), and `metadata`,
    /// to `path` under `policy`. A produced tensor must match its entry's dtype and shape.
    public static func write(entries: [Entry], metadata: [String: String] = [:], to path: String,
                             policy: OverwritePolicy = .refuse,
                             tensor: (String) throws(SafetensorsError) -> Tensor) throws(SafetensorsError) {
        let ordered = entries.sorted { a, b in
            let sa = a.dtype.byteSize, sb = b.dtype.byteSize
            return sa != sb ? sa > sb : a.name < b.name
        }
        if ordered.contains(where: { $0.name == "__metadata__" }) { throw .invalidTensor(name: "__metadata__", reason: "reserved name") }
        if Set(ordered.map(\.name)).count != ordered.count { throw .invalidTensor(name: path, reason: "duplicate tensor names") }
        var fields: [String] = []
        var offset = 0
        for e in ordered {
            fields.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.safetensorsName)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}")
            offset += e.byteCount
        }
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            fields.insert("\"__metadata__\":{\(m)}", at: 0)
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var prefix = [UInt8](repeating: 0, count: 8)
        var n = UInt64(header.count)
        for i in 0..<8 { prefix[i] = UInt8(n & 0xff); n >>= 8 }
        var produceError: SafetensorsError?
        do throws(TensorError) {
            try AtomicFile.write(to: path, policy: policy) { sink throws(TensorError) in
                try sink.write(prefix + header)
                for e in ordered {
                    let t: Tensor
                    do throws(SafetensorsError) {
                        t = try tensor(e.name)
                    } catch {
                        produceError = error
                        throw .invalidArgument(error.description)
                    }
                    guard t.dtype == e.dtype, t.shape == e.shape else {
                        produceError = .invalidTensor(name: e.name, reason: "produced \(t.dtype.safetensorsName) \(t.shape), announced \(e.dtype.safetensorsName) \(e.shape)")
                        throw .invalidArgument(e.name)
                    }
                    try t.withUnsafeBytes { b throws(TensorError) in try sink.write(b) }
                }
            }
        } catch {
            if let produceError { throw produceError }
            if case .fileExists(let p) = error { throw .fileExists(path: p) }
            let m = error.description
            throw .io(path: path, reason: m.hasPrefix(path + ": ") ? String(m.dropFirst(path.count + 2)) : m)
        }
    }

    /// A JSON string literal for `s`.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
