import Foundation

/// Finds folders that ship with mflux-swift (``ModelDescriptor/Source/bundled(path:)``): below the
/// repository root that holds the running executable (a `swift build` product lives in
/// `<root>/.build/...`) or the current directory.
public enum BundledModels {
    /// The folder `relativePath` below the first root that holds it with a `model_index.json`, or nil.
    public static func locate(_ relativePath: String, executable: String? = nil, currentDirectory: String? = nil) -> String? {
        let starts = [executable ?? executablePath, currentDirectory ?? FileManager.default.currentDirectoryPath].compactMap { $0 }
        for start in starts {
            var url = URL(fileURLWithPath: start).resolvingSymlinksInPath()
            while true {
                let candidate = url.appendingPathComponent(relativePath).path
                if FileManager.default.fileExists(atPath: candidate + "/model_index.json") { return candidate }
                let parent = url.deletingLastPathComponent()
                if parent.path == url.path { break }
                url = parent
            }
        }
        return nil
    }

    /// The running executable's path (`/proc/self/exe` on Linux).
    static var executablePath: String? {
        #if os(Linux)
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        #endif
        return CommandLine.arguments.first.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }
}
