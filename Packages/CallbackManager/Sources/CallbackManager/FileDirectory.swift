#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Folder creation for outputs.
enum FileDirectory {
    /// Creates `path` and its missing parents (mode 0777 minus the umask); an existing folder is fine.
    static func create(_ path: String) throws {
        var isDir = stat()
        if stat(path, &isDir) == 0 {
            guard (isDir.st_mode & S_IFMT) == S_IFDIR else { throw CallbackError("\(path) exists and is not a folder") }
            return
        }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw CallbackError("cannot create the folder \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}
