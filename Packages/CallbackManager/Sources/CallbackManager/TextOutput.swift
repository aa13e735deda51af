#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorKit

/// Where the built-in reporters write text: standard error by default, or a buffer in tests.
public protocol TextOutput: AnyObject, Sendable {
    /// Writes `text` as is (no newline added).
    func write(_ text: String)
    /// Whether the output is an interactive terminal (live bars) or a log (plain lines).
    var isTerminal: Bool { get }
}

/// A file descriptor (default: standard error).
public final class FileDescriptorOutput: TextOutput {
    private let fd: Int32

    /// Writes to `fd` (2: standard error).
    public init(fd: Int32 = 2) { self.fd = fd }

    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let r = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if r < 0 { if errno == EINTR { continue }; return }
            done += r
        }
        bytes.removeAll()
    }

    public var isTerminal: Bool { isatty(fd) == 1 }
}

/// Collects what is written (tests, or a host application showing the log).
public final class BufferOutput: TextOutput {
    private let buffer = Locked<String>("")
    /// Whether to behave as a terminal.
    public let isTerminal: Bool

    /// An empty buffer; `isTerminal` selects live-bar or plain-line output.
    public init(isTerminal: Bool = false) { self.isTerminal = isTerminal }

    public func write(_ text: String) { buffer.withLock { $0 += text } }

    /// Everything written so far.
    public var text: String { buffer.withLock { $0 } }
}
