import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns Ctrl-C (SIGINT) and SIGTERM into a cancellation request: the first signal cancels
/// `token` (the run stops after the current step, keeping what is complete) and prints one
/// line; a second one ends the process at once with status 128 + signal. Lives as long as the
/// object; the default handlers come back when it is released.
public final class SignalCancellation: Sendable {
    private let sources: [UncheckedSignalSource]
    private let signals: [Int32]

    /// Watches `signals` for `token`, announcing the first one on `output`; with `quitOnSecond`
    /// a second signal ends the process at once. (The watch starts asynchronously, within
    /// microseconds of this call.)
    public init(token: CancellationToken, signals: [Int32] = [SIGINT, SIGTERM], output: TextOutput = FileDescriptorOutput(),
                quitOnSecond: Bool = true) {
        self.signals = signals
        var sources: [UncheckedSignalSource] = []
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if token.isCancelled {
                    if quitOnSecond { _exit(128 + sig) }
                    return
                }
                token.cancel(signal: sig)
                output.write("\nmflux: stopping after the current step (\(sig == SIGINT ? "Ctrl-C" : "signal \(sig)") again to quit now)\n")
            }
            source.resume()
            sources.append(UncheckedSignalSource(source))
        }
        self.sources = sources
    }

    deinit {
        for s in sources { s.source.cancel() }
        for sig in signals { signal(sig, SIG_DFL) }
    }
}

/// A dispatch signal source; audited: it is only created, resumed and cancelled (all
/// thread-safe dispatch operations), never mutated otherwise.
private struct UncheckedSignalSource: @unchecked Sendable {
    let source: any DispatchSourceSignal
    init(_ source: any DispatchSourceSignal) { self.source = source }
}
