import Foundation
import TensorKit

/// A checkpoint split over several safetensors files, described by a `*.safetensors.index.json`
/// (`{"metadata": {...}, "weight_map": {"tensor.name": "model-00001-of-00002.safetensors", ...}}`).
///
/// Every shard is memory-mapped and validated when the checkpoint is opened. Shard names must be
/// plain files inside the index's folder (no absolute paths, no `..`); every tensor the index
/// names must exist in its shard, and every tensor of a shard must be named by the index.
public final class ShardedCheckpoint: TensorSource, @unchecked Sendable {
    // Audited @unchecked Sendable: immutable after init; the shards are themselves immutable.

    /// Largest index file accepted (bytes).
    public static let maxIndexBytes = 64 << 20

    /// The file (or index) path as given.
    public let path: String
    /// Shards by file name.
    public let shards: [String: SafetensorsFile]
    /// Tensor name -> shard file name.
    public let weightMap: [String: String]
    /// All tensor names, sorted.
    public let tensorNames: [String]
    /// String metadata (`__metadata__`).
    public let metadata: [String: String]

    /// Opens the index at `indexPath` and every shard it names.
    public init(indexPath: String) throws(SafetensorsError) {
        path = indexPath
        let data: Data
        do {
            let attrs = try FileManager.default.attributesOfItem(atPath: indexPath)
            if let size = attrs[.size] as? Int, size > ShardedCheckpoint.maxIndexBytes {
                throw SafetensorsError.invalidIndex(path: indexPath, reason: "index file is larger than \(ShardedCheckpoint.maxIndexBytes) bytes")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: indexPath))
        } catch let e as SafetensorsError {
            throw e
        } catch {
            throw .io(path: indexPath, reason: "cannot read the index: \((error as NSError).localizedDescription)")
        }
        let json: JSONValue
        do throws(JSONParser.Failure) {
            json = try JSONParser.parse(Array(data))
        } catch {
            throw .invalidIndex(path: indexPath, reason: "invalid index JSON: \(error.description)")
        }
        guard json.objectValue != nil else { throw .invalidIndex(path: indexPath, reason: "the index is not a JSON object") }
        guard let map = json["weight_map"]?.objectValue else {
            throw .invalidIndex(path: indexPath, reason: "the index has no \"weight_map\" object")
        }
        var meta: [String: String] = [:]
        if let m = json["metadata"] {
            guard let pairs = m.objectValue else { throw .invalidIndex(path: indexPath, reason: "\"metadata\" is not an object") }
            for (k, v) in pairs {
                switch v {
                case .string(let s): meta[k] = s
                case .number(let n): meta[k] = n
                case .bool(let b): meta[k] = b ? "true" : "false"
                default: throw .invalidIndex(path: indexPath, reason: "metadata \"\(k)\" is not a string or number")
                }
            }
        }
        let folder = (indexPath as NSString).deletingLastPathComponent
        var weightMap: [String: String] = [:]
        for (name, v) in map {
            guard let file = v.stringValue else { throw .invalidIndex(path: indexPath, reason: "shard of \(name) is not a string") }
            try ShardedCheckpoint.validateShardName(file, indexPath: indexPath)
            weightMap[name] = file
        }
        var shards: [String: SafetensorsFile] = [:]
        for file in Set(weightMap.values).sorted() {
            let shardPath = folder.isEmpty ? file : folder + "/" + file
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw .invalidIndex(path: indexPath, reason: "missing shard \(file)")
            }
            shards[file] = try SafetensorsFile(path: shardPath)
        }
        for (name, file) in weightMap.sorted(by: { $0.key < $1.key }) where shards[file]!.info(name) == nil {
            throw .invalidIndex(path: indexPath, reason: "the index places tensor \(name) in \(file), which does not contain it")
        }
        for (file, shard) in shards.sorted(by: { $0.key < $1.key }) {
            for name in shard.tensorNames where weightMap[name] != file {
                throw .invalidIndex(path: indexPath, reason: "shard \(file) holds tensor \(name), which the index \(weightMap[name].map { "places in \($0)" } ?? "does not list")")
            }
            meta.merge(shard.metadata) { index, _ in index }
        }
        self.shards = shards
        self.weightMap = weightMap
        self.metadata = meta
        tensorNames = weightMap.keys.sorted()
    }

    /// A shard name must be a relative path that stays inside the index's folder.
    static func validateShardName(_ file: String, indexPath: String) throws(SafetensorsError) {
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        if file.isEmpty || file.hasPrefix("/") || file.contains("\0") || parts.contains("..") || parts.contains("") {
            throw .invalidIndex(path: indexPath, reason: "shard name \"\(file)\" leaves the checkpoint folder")
        }
    }

    /// The header entry of `name`, or nil.
    public func info(_ name: String) -> TensorInfo? {
        guard let file = weightMap[name] else { return nil }
        return shards[file]?.info(name)
    }

    /// The tensor `name` (zero-copy when aligned); throws ``SafetensorsError/missingTensor(path:tensor:)``.
    public func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        guard let file = weightMap[name], let shard = shards[file] else { throw .missingTensor(path: path, tensor: name) }
        return try shard.tensor(name)
    }
}
