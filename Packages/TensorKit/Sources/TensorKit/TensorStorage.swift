#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes behind a ``Tensor``: owned, 64-byte aligned memory, or a read-only view into a
/// ``MappedFile``.
///
/// Audited `@unchecked Sendable`: a mapped storage is never written; an owned storage is written
/// only through ``Tensor``'s mutating accessors, which first make the storage unique
/// (copy-on-write), so no two threads can see a write to shared bytes.
public final class TensorStorage: @unchecked Sendable {
    /// Where the bytes live.
    public enum Backing: Sendable {
        /// Memory owned by this storage (freed in `deinit`).
        case owned
        /// A range of a memory-mapped file (kept alive by this storage).
        case mapped(MappedFile)
    }

    /// Start of the bytes (never nil; zero-byte storages point at a private 64-byte block).
    let pointer: UnsafeMutableRawPointer
    /// Number of bytes.
    public let byteCount: Int
    /// Owned memory or a file mapping.
    public let backing: Backing
    /// Whether `pointer` was allocated here (and is freed in `deinit`).
    private let ownsPointer: Bool
    /// Whether `pointer` came from ``LargeBlockCache`` (and goes back there).
    private let isCachedBlock: Bool

    /// Allocates `byteCount` zeroed bytes, 64-byte aligned.
    public convenience init(zeroedByteCount byteCount: Int) {
        self.init(byteCount: byteCount, zeroed: true)
    }

    /// Allocates `byteCount` uninitialised bytes, 64-byte aligned (the caller fills them); large
    /// blocks come from ``LargeBlockCache``.
    public convenience init(uninitializedByteCount byteCount: Int) {
        self.init(byteCount: byteCount, zeroed: false)
    }

    private init(byteCount: Int, zeroed: Bool) {
        var fresh = false
        if byteCount >= LargeBlockCache.threshold {
            (pointer, fresh) = LargeBlockCache.shared.take(byteCount)
            isCachedBlock = true
        } else {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
            isCachedBlock = false
        }
        // A freshly mapped block already reads as zeros.
        if zeroed && !fresh { memset(pointer, 0, max(byteCount, 64)) }
        self.byteCount = byteCount
        backing = .owned
        ownsPointer = true
    }

    /// A zero-copy view of `count` bytes at `offset` inside `file`. The caller guarantees the
    /// range is inside the file and aligned for the element type.
    public init(file: MappedFile, offset: Int, count: Int) {
        let bytes = file.bytes(offset: offset, count: count)
        if let base = bytes.baseAddress, count > 0 {
            pointer = UnsafeMutableRawPointer(mutating: base)
            ownsPointer = false
        } else {
            // Empty tensor: point at a private block that is never written.
            pointer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
            ownsPointer = true
        }
        isCachedBlock = false
        byteCount = count
        backing = .mapped(file)
    }

    deinit {
        if isCachedBlock {
            LargeBlockCache.shared.give(pointer, byteCount)
        } else if ownsPointer {
            pointer.deallocate()
        }
    }

    /// For a file mapping: tells the OS this process no longer needs the whole pages inside the
    /// bytes (`MADV_DONTNEED`: they leave the resident set and are read again from the file if
    /// touched). Owned memory is kept as is.
    func releaseResidentPages() {
        guard isMapped, byteCount > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: pointer) + page - 1) / page * page
        let end = (Int(bitPattern: pointer) + byteCount) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }

    /// Whether the bytes are a read-only file mapping.
    public var isMapped: Bool {
        if case .mapped = backing { return true }
        return false
    }

    /// An owned copy of the bytes.
    func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedByteCount: byteCount)
        if byteCount > 0 { memcpy(s.pointer, pointer, byteCount) }
        return s
    }
}
