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
        let names = tensors.keys.sorted { a, b in
            let sa = tensors[a]!.dtype.byteSize, sb = tensors[b]!.dtype.byteSize
            return sa != sb ? sa > sb : a < b
        }
        if names.contains("__metadata__") { throw .invalidTensor(name: "__metadata__", reason: "reserved name") }
        var entries: [String] = []
        var offset = 0
        for name in names {
            let t = tensors[name]!
            entries.append("\(jsonString(name)):{\"dtype\":\"\(t.dtype.safetensorsName)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
            offset += t.byteCount
        }
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            entries.insert("\"__metadata__\":{\(m)}", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var prefix = [UInt8](repeating: 0, count: 8)
        var n = UInt64(header.count)
        for i in 0..<8 { prefix[i] = UInt8(n & 0xff); n >>= 8 }
        do throws(TensorError) {
            try AtomicFile.write(to: path, policy: policy) { sink throws(TensorError) in
                try sink.write(prefix + header)
                for name in names {
                    try tensors[name]!.withUnsafeBytes { b throws(TensorError) in try sink.write(b) }
                }
            }
        } catch {
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
