import SafetensorsIO
import TensorKit

/// A component saved by mflux in its own format, seen under diffusers names and layouts: names
/// renamed by the family's ``MfluxNaming``, convolution weights (stored OHWI, MLX's layout)
/// served as OIHW copies in their stored dtype. Quantized layers keep their `weight` (uint32),
/// `scales` and `biases` tensors under the renamed prefix; ``WeightLoader`` takes them as a
/// ``QuantizedMatrix``.
public final class MfluxFormatSource: TensorSource, @unchecked Sendable {
    // Audited: every stored property is immutable after init; the wrapped source is Sendable.
    /// The mflux-format tensors.
    public let stored: any TensorSource
    /// The naming the folder was saved with.
    public let naming: MfluxNaming
    /// The stored quantization level (nil: unquantized).
    public let quantizationLevel: Int?
    private let storedName: [String: String]
    public let tensorNames: [String]

    /// Wraps `stored`, an mflux-format component, under `naming`. Fails if two stored names map
    /// to the same diffusers name.
    public init(_ stored: any TensorSource, naming: MfluxNaming) throws(ModelError) {
        self.stored = stored
        self.naming = naming
        quantizationLevel = MfluxNaming.quantizationLevel(metadata: stored.metadata)
        var map: [String: String] = [:]
        for name in stored.tensorNames {
            let d = naming.diffusersName(name)
            if let other = map[d] { throw .checkpoint("\(stored.path): \(other) and \(name) both map to \(d)") }
            map[d] = name
        }
        storedName = map
        tensorNames = map.keys.sorted()
    }

    public var path: String { stored.path }
    public var metadata: [String: String] { stored.metadata }

    /// The stored (mflux) name of the diffusers name `name`.
    public func mfluxName(_ name: String) -> String? { storedName[name] }

    public func info(_ name: String) -> TensorInfo? {
        guard let s = storedName[name], let info = stored.info(s) else { return nil }
        guard info.shape.count == 4 else { return info }
        let sh = info.shape
        return TensorInfo(dtype: info.dtype, shape: [sh[0], sh[3], sh[1], sh[2]], dataOffsets: info.dataOffsets)
    }

    public func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        guard let s = storedName[name] else { throw .missingTensor(path: path, tensor: name) }
        let t = try stored.tensor(s)
        return t.rank == 4 ? t.permuted([0, 3, 1, 2]) : t
    }
}
