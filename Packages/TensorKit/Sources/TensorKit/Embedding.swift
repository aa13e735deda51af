extension ComputeContext {
    /// Embedding lookup: rows of `table` `[V, D]` (any float dtype, e.g. a mapped bf16 matrix)
    /// gathered by `ids` (any integer dtype, shape `[...]`). Returns `[..., D]` float32.
    /// Throws when an id is outside `0..<V`.
    public func embedding(_ ids: Tensor, table: Tensor) throws(TensorError) -> Tensor {
        guard table.rank == 2, table.dtype.isComputeFloat else {
            throw .invalidArgument("embedding table must be a float [V, D] tensor, got \(table.dtype) \(table.shape)")
        }
        let v = table.shape[0], d = table.shape[1]
        let idList = ids.integers()
        guard let idList else { throw .invalidArgument("embedding ids must be integers, got \(ids.dtype)") }
        if let bad = idList.first(where: { $0 < 0 || $0 >= v }) {
            throw .invalidArgument("token id \(bad) is outside the embedding table (\(v) rows)")
        }
        var out = Tensor(uninitialized: ids.shape + [d], dtype: .float32)
        let op = out.mutableFloatPointer()
        let es = table.dtype.byteSize
        withExtendedLifetime(table) {
            for (i, id) in idList.enumerated() {
                convertToFloat32(table.rawPointer + id * d * es, dtype: table.dtype, count: d, into: op + i * d)
            }
        }
        return out
    }
}

extension Tensor {
    /// The elements as `Int` when the dtype is an integer or bool type, else nil.
    public func integers() -> [Int]? {
        switch dtype {
        case .int64: return scalars(as: Int64.self).map { Int($0) }
        case .int32: return scalars(as: Int32.self).map { Int($0) }
        case .int16: return scalars(as: Int16.self).map { Int($0) }
        case .int8: return scalars(as: Int8.self).map { Int($0) }
        case .uint64: return scalars(as: UInt64.self).map { Int(truncatingIfNeeded: $0) }
        case .uint32: return scalars(as: UInt32.self).map { Int($0) }
        case .uint16: return scalars(as: UInt16.self).map { Int($0) }
        case .uint8, .bool: return scalars(as: UInt8.self).map { Int($0) }
        default: return nil
        }
    }
}
