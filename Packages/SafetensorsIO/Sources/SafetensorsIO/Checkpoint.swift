import Foundation

/// Opens whatever holds a set of tensors: a `.safetensors` file, a `*.safetensors.index.json`, or
/// a folder holding either (one index, or exactly one `.safetensors` file).
public enum Checkpoint {
    /// Opens `path` as a ``TensorSource``. Throws a ``SafetensorsError`` naming the problem.
    public static func open(_ path: String) throws(SafetensorsError) -> any TensorSource {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .io(path: path, reason: "no such file or folder")
        }
        if !isDir.boolValue {
            if path.hasSuffix(".json") { return try ShardedCheckpoint(indexPath: path) }
            return try SafetensorsFile(path: path)
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw .io(path: path, reason: "cannot list the folder")
        }
        let indexes = entries.filter { $0.hasSuffix(".safetensors.index.json") }
        if indexes.count > 1 {
            throw .invalidIndex(path: path, reason: "several index files (\(indexes.joined(separator: ", "))); name one")
        }
        if let index = indexes.first { return try ShardedCheckpoint(indexPath: path + "/" + index) }
        let files = entries.filter { $0.hasSuffix(".safetensors") }
        if files.count == 1 { return try SafetensorsFile(path: path + "/" + files[0]) }
        if files.isEmpty { throw .io(path: path, reason: "no .safetensors file or index in the folder") }
        throw .invalidIndex(path: path, reason: "\(files.count) .safetensors files and no index; name one")
    }
}
