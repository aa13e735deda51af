import Foundation

/// Where an image is written: the requested path, or, when a file is already there, the first
/// free `name_1.ext`, `name_2.ext`, ... (an existing file is never overwritten).
enum OutputPath {
    static func available(_ path: String) -> String {
        guard FileManager.default.fileExists(atPath: path) else { return path }
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        var i = 1
        while true {
            let candidate = ext.isEmpty ? "\(stem)_\(i)" : "\(stem)_\(i).\(ext)"
            if !FileManager.default.fileExists(atPath: candidate) { return candidate }
            i += 1
        }
    }
}
