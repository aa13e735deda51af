#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What to do when the destination of a write already exists.
public enum OverwritePolicy: Sendable {
    /// Throw ``SafetensorsError/fileExists(path:)`` and leave the existing file untouched.
    case refuse
    /// Replace it atomically.
    case replace
}

/// Writes a file atomically: the bytes go to a temporary file in the same folder, are flushed
/// to disk, and the temporary file is renamed over the destination, so readers see either the
/// old file or the complete new one, never a partial write.
public enum AtomicFile {
    /// Writes the chunks produced by `produce` (called with a writer closure) to `path`.
    public static func write(to path: String, policy: OverwritePolicy,
                             _ produce: ((UnsafeRawBufferPointer) throws(SafetensorsError) -> Void) throws(SafetensorsError) -> Void) throws(SafetensorsError) {
        if policy == .refuse, access(path, F_OK) == 0 { throw .fileExists(path: path) }
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = String(path[..<slash]).isEmpty ? "/" : String(path[..<slash]) } else { dir = "." }
        let base = path.split(separator: "/").last.map(String.init) ?? path
        var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path: path, reason: "cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))") }
        let tmp = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do throws(SafetensorsError) {
            try produce { (chunk: UnsafeRawBufferPointer) throws(SafetensorsError) in
                var done = 0
                while done < chunk.count {
                    let r = Glibc.write(fd, chunk.baseAddress! + done, chunk.count - done)
                    if r < 0 {
                        if errno == EINTR { continue }
                        throw .io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                    }
                    done += r
                }
            }
            guard fsync(fd) == 0 else { throw .io(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw .io(path: path, reason: "close failed: \(String(cString: strerror(errno)))") }
        fchmodCompat(tmp)
        if policy == .refuse {
            // link() fails if the destination appeared meanwhile: never overwrite silently.
            guard link(tmp, path) == 0 else {
                if errno == EEXIST { throw .fileExists(path: path) }
                throw .io(path: path, reason: "cannot create: \(String(cString: strerror(errno)))")
            }
            unlink(tmp)
        } else {
            guard rename(tmp, path) == 0 else { throw .io(path: path, reason: "cannot rename into place: \(String(cString: strerror(errno)))") }
        }
        ok = true
    }

    /// mkstemp creates 0600 files; give the result the usual 0644 (minus the umask).
    private static func fchmodCompat(_ path: String) {
        let mask = umask(0)
        umask(mask)
        chmod(path, 0o666 & ~mask)
    }
}
