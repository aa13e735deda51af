import TensorKit

/// Anything that serves named tensors: a single safetensors file or a sharded checkpoint.
public protocol TensorSource: Sendable {
    /// Where the tensors come from (file or index path), for messages.
    var path: String { get }
    /// All tensor names, sorted.
    var tensorNames: [String] { get }
    /// The header entry of `name`, or nil.
    func info(_ name: String) -> TensorInfo?
    /// The tensor `name`, zero-copy where aligned. Throws ``SafetensorsError/missingTensor(path:tensor:)``.
    func tensor(_ name: String) throws(SafetensorsError) -> Tensor
    /// String metadata (`__metadata__`; merged over shards, plus the index's own metadata).
    var metadata: [String: String] { get }
}
