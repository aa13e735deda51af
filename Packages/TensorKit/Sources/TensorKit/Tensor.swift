#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An n-dimensional array: a shape, a dtype and contiguous row-major bytes.
///
/// A value type with copy-on-write storage. The bytes are either owned (64-byte aligned) or a
/// zero-copy, read-only view into a memory-mapped file; the first mutation of a mapped or shared
/// tensor copies it, so nothing ever writes through a read-only mapping.
///
/// Shapes are `[Int]`, outermost first; a rank-0 tensor (`[]`) holds one element.
public struct Tensor: Sendable {
    /// Dimensions, outermost first.
    public private(set) var shape: [Int]
    /// Element type.
    public let dtype: DType
    /// The bytes (shared between copies until one of them mutates).
    public private(set) var storage: TensorStorage

    /// Number of elements of `shape` (1 for rank 0), or nil when it overflows `Int`.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (r, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = r
        }
        return n
    }

    /// A zero-filled tensor of `shape` and `dtype`.
    public init(zeros shape: [Int], dtype: DType = .float32) {
        guard let n = Tensor.elementCount(shape) else { preconditionFailure("invalid shape \(shape)") }
        self.shape = shape
        self.dtype = dtype
        storage = TensorStorage(zeroedByteCount: n * dtype.byteSize)
    }

    /// A tensor of `shape` and `dtype` whose bytes the caller fills before reading
    /// (through ``withUnsafeMutableBytes(_:)``).
    public init(uninitialized shape: [Int], dtype: DType = .float32) {
        guard let n = Tensor.elementCount(shape) else { preconditionFailure("invalid shape \(shape)") }
        self.shape = shape
        self.dtype = dtype
        storage = TensorStorage(uninitializedByteCount: n * dtype.byteSize)
    }

    /// A float32 tensor of `shape` holding `values` (row-major; `values.count` must match).
    public init(shape: [Int], floats values: [Float]) {
        self.init(shape: shape, scalars: values, dtype: .float32)
    }

    /// A tensor of `shape` and `dtype` whose elements are `values` (`T`'s size must equal the
    /// dtype's; e.g. `UInt16` bit patterns for bfloat16, `Int64` for int64 ids).
    public init<T: BitwiseCopyable>(shape: [Int], scalars values: [T], dtype: DType) {
        precondition(MemoryLayout<T>.stride == dtype.byteSize, "\(T.self) does not match dtype \(dtype)")
        guard let n = Tensor.elementCount(shape), n == values.count else {
            preconditionFailure("shape \(shape) does not hold \(values.count) values")
        }
        self.init(uninitialized: shape, dtype: dtype)
        values.withUnsafeBytes { src in
            if src.count > 0 { memcpy(storage.pointer, src.baseAddress!, src.count) }
        }
    }

    /// A tensor of `shape` and `dtype` copied from `bytes` (which must hold exactly its size).
    public init(shape: [Int], dtype: DType, copying bytes: UnsafeRawBufferPointer) {
        guard let n = Tensor.elementCount(shape), n * dtype.byteSize == bytes.count else {
            preconditionFailure("shape \(shape) x \(dtype) does not match \(bytes.count) bytes")
        }
        self.init(uninitialized: shape, dtype: dtype)
        if bytes.count > 0 { memcpy(storage.pointer, bytes.baseAddress!, bytes.count) }
    }

    /// A tensor viewing `byteCount(shape, dtype)` bytes at `offset` in a mapped file: zero-copy
    /// when the bytes are aligned for the dtype, an owned copy otherwise. Throws when the range
    /// lies outside the file.
    public init(mapping file: MappedFile, offset: Int, shape: [Int], dtype: DType) throws(TensorError) {
        guard let n = Tensor.elementCount(shape) else {
            throw .invalidArgument("invalid shape \(shape)")
        }
        let (bytes, o) = n.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o, offset >= 0, offset <= file.byteCount, bytes <= file.byteCount - offset else {
            throw .invalidArgument("tensor bytes [\(offset), \(offset)+\(n * dtype.byteSize)) lie outside \(file.path) (\(file.byteCount) bytes)")
        }
        self.shape = shape
        self.dtype = dtype
        let view = file.bytes(offset: offset, count: bytes)
        let alignment = min(dtype.byteSize, 8)
        if let base = view.baseAddress, Int(bitPattern: base) % alignment != 0 {
            storage = TensorStorage(uninitializedByteCount: bytes)
            memcpy(storage.pointer, base, bytes)
        } else {
            storage = TensorStorage(file: file, offset: offset, count: bytes)
        }
    }

    /// A tensor sharing `storage` (no copy); `storage` must hold exactly the shape's bytes.
    init(shape: [Int], dtype: DType, storage: TensorStorage) {
        precondition(Tensor.elementCount(shape).map { $0 * dtype.byteSize } == storage.byteCount)
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// Number of elements.
    public var count: Int { Tensor.elementCount(shape)! }
    /// Number of bytes.
    public var byteCount: Int { storage.byteCount }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Whether the bytes are a read-only view into a mapped file.
    public var isMapped: Bool { storage.isMapped }

    /// Calls `body` with the tensor's bytes.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer, count: storage.byteCount))
    }

    /// Calls `body` with the tensor's bytes, writable. Copies first when the storage is mapped or
    /// shared with another tensor (copy-on-write).
    public mutating func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        makeUnique()
        return try body(UnsafeMutableRawBufferPointer(start: storage.pointer, count: storage.byteCount))
    }

    /// Calls `body` with the elements typed as `T` (`T`'s size must equal the dtype's).
    public func withUnsafeBufferPointer<T: BitwiseCopyable, R, E: Error>(as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws(E) -> R) throws(E) -> R {
        precondition(MemoryLayout<T>.stride == dtype.byteSize, "\(T.self) does not match dtype \(dtype)")
        let p = UnsafeRawPointer(storage.pointer).assumingMemoryBound(to: T.self)
        return try body(UnsafeBufferPointer(start: p, count: count))
    }

    /// Calls `body` with the elements typed as `T`, writable (copy-on-write as in
    /// ``withUnsafeMutableBytes(_:)``).
    public mutating func withUnsafeMutableBufferPointer<T: BitwiseCopyable, R, E: Error>(as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws(E) -> R) throws(E) -> R {
        precondition(MemoryLayout<T>.stride == dtype.byteSize, "\(T.self) does not match dtype \(dtype)")
        makeUnique()
        let p = storage.pointer.assumingMemoryBound(to: T.self)
        return try body(UnsafeMutableBufferPointer(start: p, count: count))
    }

    /// The elements as an array of `T` (`T`'s size must equal the dtype's).
    public func scalars<T: BitwiseCopyable>(as type: T.Type) -> [T] {
        withUnsafeBufferPointer(as: T.self) { Array($0) }
    }

    /// Read-only float32 pointer to the elements (dtype must be float32). Valid while `self`
    /// (or a copy sharing its storage) is alive and unmutated.
    var floatPointer: UnsafePointer<Float> {
        precondition(dtype == .float32, "expected a float32 tensor, got \(dtype)")
        return UnsafePointer(storage.pointer.assumingMemoryBound(to: Float.self))
    }

    /// Writable float32 pointer after making the storage unique (dtype must be float32).
    mutating func mutableFloatPointer() -> UnsafeMutablePointer<Float> {
        precondition(dtype == .float32, "expected a float32 tensor, got \(dtype)")
        makeUnique()
        return storage.pointer.assumingMemoryBound(to: Float.self)
    }

    /// For a tensor viewing a file mapping: lets the OS drop its pages from the resident set (they
    /// are read again from the file if the tensor is used later). No effect on owned tensors.
    public func releaseResidentPages() { storage.releaseResidentPages() }

    /// Raw pointer to the bytes (read-only use).
    var rawPointer: UnsafeRawPointer { UnsafeRawPointer(storage.pointer) }

    /// Writable raw pointer after making the storage unique (any dtype).
    var mutableRawPointer: UnsafeMutableRawPointer {
        mutating get {
            makeUnique()
            return storage.pointer
        }
    }

    private mutating func makeUnique() {
        if storage.isMapped || !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
        }
    }

    /// The same bytes with another shape of equal element count; one dimension may be -1
    /// (inferred). Shares storage (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            s[i] = count / known
        }
        precondition(Tensor.elementCount(s) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: s, dtype: dtype, storage: storage)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        "Tensor(\(dtype.rawValue), \(shape)\(isMapped ? ", mapped" : ""))"
    }
}
