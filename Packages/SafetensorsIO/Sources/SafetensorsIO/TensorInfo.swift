import TensorKit

/// A tensor's entry in a safetensors header.
public struct TensorInfo: Sendable, Equatable {
    /// Element type.
    public let dtype: DType
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// Byte range `[begin, end)` relative to the start of the data section.
    public let dataOffsets: Range<Int>

    /// An entry (used by in-memory tensor sources).
    public init(dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of bytes.
    public var byteCount: Int { dataOffsets.count }
}
