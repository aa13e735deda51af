#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only (`mmap(PROT_READ, MAP_PRIVATE)`).
///
/// Tensors that view the file keep this object alive; the mapping is released (`munmap`) when
/// the last reference goes away. Audited `@unchecked Sendable`: every stored property is
/// immutable after `init`, and the mapped pages are read-only, so nothing can write through it.
public final class MappedFile: @unchecked Sendable {
    /// The file's path as given.
    public let path: String
    /// Start of the mapping (nil for an empty file).
    public let baseAddress: UnsafeRawPointer?
    /// File size in bytes.
    public let byteCount: Int

    /// Maps `path` read-only. Throws ``TensorError/io(_:)`` when the file cannot be opened,
    /// stat'ed or mapped.
    public init(path: String) throws(TensorError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TensorError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw TensorError.io("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw TensorError.io("\(path) is not a regular file")
        }
        let size = Int(st.st_size)
        byteCount = size
        if size == 0 {
            baseAddress = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw TensorError.io("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        baseAddress = UnsafeRawPointer(p)
    }

    deinit {
        if let baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: baseAddress), byteCount)
        }
    }

    /// The mapped bytes `[offset, offset + count)`; the caller has checked the range.
    public func bytes(offset: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset + count <= byteCount, "range outside the mapping")
        guard let baseAddress else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: baseAddress + offset, count: count)
    }
}
