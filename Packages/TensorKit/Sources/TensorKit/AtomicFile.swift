#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to do when the destination of a write already exists.
public enum OverwritePolicy: Sendable {
    /// Throw ``TensorError/fileExists(_:)`` and leave the existing file untouched.
    case refuse
    /// Replace it atomically.
    case replace
}

/// Receives the bytes of a file being written by ``AtomicFile/write(to:policy:_:)``.
public struct FileSink: ~Copyable {
    let fd: Int32
    let path: String

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TensorError) {
        var done = 0
        while done < bytes.count {
            let r = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if r < 0 {
                if errno == EINTR { continue }
                throw .io("\(path): write failed: \(String(cString: strerror(errno)))")
            }
            done += r
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(TensorError) {
        try bytes.withUnsafeBytes { b in Result { () throws(TensorError) in try write(b) } }.get()
    }
}

/// Writes a file atomically: the bytes go to a temporary file in the same folder, are flushed
/// to disk, and the temporary file is then moved into place, so readers see either the old file
/// or the complete new one, never a partial write; on any error the temporary file is removed
/// and the destination is untouched.
public enum AtomicFile {
    /// Writes what `produce` emits into the sink to `path`, under `policy`.
    public static func write(to path: String, policy: OverwritePolicy,
                             _ produce: (borrowing FileSink) throws(TensorError) -> Void) throws(TensorError) {
        if policy == .refuse, access(path, F_OK) == 0 { throw .fileExists(path) }
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            let d = String(path[..<slash])
            dir = d.isEmpty ? "/" : d
        } else {
            dir = "."
        }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw .io("\(path): cannot create a file in \(dir): \(String(cString: strerror(errno)))")
        }
        let tmp = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var committed = false
        defer { if !committed { unlink(tmp) } }
        do throws(TensorError) {
            try produce(FileSink(fd: fd, path: path))
            guard fsync(fd) == 0 else { throw .io("\(path): fsync failed: \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw .io("\(path): close failed: \(String(cString: strerror(errno)))") }
        // mkstemp creates 0600 files; give the result the usual mode (0666 minus the umask).
        let mask = umask(0)
        umask(mask)
        chmod(tmp, 0o666 & ~mask)
        if policy == .refuse {
            // link() fails if the destination appeared meanwhile: never overwrite silently.
            guard link(tmp, path) == 0 else {
                if errno == EEXIST { throw .fileExists(path) }
                throw .io("\(path): cannot create: \(String(cString: strerror(errno)))")
            }
            unlink(tmp)
        } else {
            guard rename(tmp, path) == 0 else {
                throw .io("\(path): cannot move into place: \(String(cString: strerror(errno)))")
            }
        }
        committed = true
    }
}
