import Foundation
import SafetensorsIO
import TensorKit

/// One exported reference case: its manifest, its tensors (`tensors.safetensors`) and the path
/// of the diffusers checkpoint that produced them.
public struct ReferenceCase: Sendable {
    /// The exports root.
    public let root: String
    /// The case folder relative to the root (e.g. "zimage/cases/bf16").
    public let name: String
    /// The case folder.
    public let folder: String
    /// The parsed `manifest.json`, as JSON text (use ``manifestValue(_:)``).
    public let manifestJSON: JSONValue
    /// The exported tensors.
    public let tensors: SafetensorsFile

    /// Opens case `name` (a folder relative to the exports root, or an absolute folder holding a
    /// `manifest.json`), locating the root from `filePath`.
    public init(_ name: String, filePath: String = #filePath) throws {
        root = try ReferenceExports.root(from: filePath)
        self.name = name
        folder = name.hasPrefix("/") ? name : root + "/" + name
        guard let data = FileManager.default.contents(atPath: folder + "/manifest.json") else {
            throw ReferenceExports.Missing(description: "\(folder)/manifest.json is missing")
        }
        manifestJSON = try JSONParser.parse(Array(data))
        tensors = try SafetensorsFile(path: folder + "/tensors.safetensors")
    }

    /// A manifest field (nil when absent).
    public func manifestValue(_ key: String) -> JSONValue? { manifestJSON[key] }

    /// The checkpoint folder the case ran (a diffusers pipeline folder).
    public var checkpointPath: String? {
        manifestValue("checkpoint")?.stringValue.map { root + "/" + $0 }
    }

    /// The exported tensor `key`; throws when absent.
    public func tensor(_ key: String) throws -> Tensor {
        try tensors.tensor(key)
    }

    /// The keys the manifest lists, with their dtype names and shapes.
    public var manifestKeys: [String: (dtype: String, shape: [Int])] {
        var out: [String: (dtype: String, shape: [Int])] = [:]
        for (k, v) in manifestValue("keys")?.objectValue ?? [] {
            out[k] = (v["dtype"]?.stringValue ?? "", v["shape"]?.arrayValue?.compactMap(\.intValue) ?? [])
        }
        return out
    }
}
