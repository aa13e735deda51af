import SafetensorsIO
import TensorKit

/// A checkpoint with some tensors replaced (negative controls: a port that ignores a weight
/// must not match the reference).
final class OverridingSource: TensorSource, @unchecked Sendable {
    // Audited: immutable after init.
    let base: any TensorSource
    let overrides: [String: Tensor]
    init(_ base: any TensorSource, overrides: [String: Tensor]) {
        self.base = base
        self.overrides = overrides
    }
    var path: String { base.path }
    var tensorNames: [String] { base.tensorNames }
    var metadata: [String: String] { base.metadata }
    func info(_ name: String) -> TensorInfo? {
        if let t = overrides[name] { return TensorInfo(dtype: t.dtype, shape: t.shape, dataOffsets: 0..<t.byteCount) }
        return base.info(name)
    }
    func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        if let t = overrides[name] { return t }
        return try base.tensor(name)
    }
}
