#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names for files that must never replace an existing one: the requested path, then
/// `stem_1.ext`, `stem_2.ext`, ... (mflux's rule).
public enum UniquePath {
    /// The `n`-th candidate for `path` (0: `path` itself; n: `stem_n.ext`).
    public static func candidate(_ path: String, _ n: Int) -> String {
        guard n > 0 else { return path }
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[slash...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(path[..<dot]) + "_\(n)" + String(path[dot...])
        }
        return path + "_\(n)"
    }

    /// `path` with its extension (the part of the last component after its last dot) replaced by
    /// `newExtension` (e.g. ".metadata.json").
    public static func replacingExtension(_ path: String, with newExtension: String) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[slash...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { return String(path[..<dot]) + newExtension }
        return path + newExtension
    }

    /// Writes with `write(candidate)` at the first candidate for which none of `companions(candidate)`
    /// exists and `write` does not report that the file exists (`isExists`), so that two writers
    /// racing for one name both keep their file. Returns the path written.
    public static func write<E: Error>(preferred path: String, companions: (String) -> [String] = { _ in [] },
                                       isExists: (E) -> Bool, _ write: (String) throws(E) -> Void) throws(E) -> String {
        var n = 0
        while true {
            let candidate = candidate(path, n)
            n += 1
            if access(candidate, F_OK) == 0 || companions(candidate).contains(where: { access($0, F_OK) == 0 }) { continue }
            do {
                try write(candidate)
                return candidate
            } catch {
                if isExists(error) { continue }
                throw error
            }
        }
    }
}
