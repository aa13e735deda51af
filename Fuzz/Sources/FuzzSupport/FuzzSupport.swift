import Foundation

/// Helpers shared by the fuzz targets.
public enum FuzzSupport {
    /// A per-process scratch folder (created once; files in it are overwritten per input).
    public static let folder: String = {
        let dir = NSTemporaryDirectory() + "mflux-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `bytes` to `name` in ``folder`` and returns the path.
    public static func write(_ bytes: UnsafeRawBufferPointer, as name: String) -> String {
        let path = folder + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// The repository's ReferenceExports folder (for fixed inputs such as a tokenizer), found
    /// from `$MFLUX_REFERENCE_EXPORTS` or by walking up from the current directory.
    public static let referenceExports: String? = {
        if let p = ProcessInfo.processInfo.environment["MFLUX_REFERENCE_EXPORTS"] { return p }
        var url = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        while url.path != "/" {
            let candidate = url.appendingPathComponent("ReferenceExports/index.json").path
            if FileManager.default.fileExists(atPath: candidate) { return url.appendingPathComponent("ReferenceExports").path }
            url.deleteLastPathComponent()
        }
        return nil
    }()

    /// The libFuzzer entry point of a target: one input, `(data, size)`.
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Hands the process to libFuzzer's driver with `callback` (flags and corpus folders from the
    /// command line, as a libFuzzer binary takes them) and exits with its status.
    public static func run(_ callback: Callback) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: FuzzSupport.Callback) -> Int32
