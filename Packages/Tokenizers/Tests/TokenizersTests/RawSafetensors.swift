import Foundation

/// A minimal safetensors reader for the tests (Tokenizers sits below SafetensorsIO's consumers
/// and has no dependency on it): integer tensors by name.
struct RawSafetensors {
    let data: Data
    let header: [String: Any]
    let start: Int

    init(path: String) throws {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        start = 8 + n
    }

    func bytes(_ name: String) throws -> Data {
        guard let e = header[name] as? [String: Any], let o = e["data_offsets"] as? [Int] else { throw CocoaError(.fileReadCorruptFile) }
        return data.subdata(in: (start + o[0])..<(start + o[1]))
    }

    func int64(_ name: String) throws -> [Int] {
        let b = try bytes(name)
        return stride(from: 0, to: b.count, by: 8).map { i in
            Int(b[b.startIndex + i..<b.startIndex + i + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        }
    }

    func uint8(_ name: String) throws -> [UInt8] { Array(try bytes(name)) }
}
