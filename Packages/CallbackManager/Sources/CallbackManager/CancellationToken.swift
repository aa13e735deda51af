import TensorKit

/// A request to stop, shared between whoever asks (a signal handler, another thread, a UI) and
/// the generation thread, which checks it between steps and stages.
public final class CancellationToken: Sendable {
    private let state = Locked<Int32?>(nil)

    /// A token nobody has cancelled yet.
    public init() {}

    /// Asks the run to stop at the next check; `signal` records why (e.g. `SIGINT`), first wins.
    public func cancel(signal: Int32 = 0) {
        state.withLock { if $0 == nil { $0 = signal } }
    }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { state.withLock { $0 != nil } }

    /// The signal number given to the first ``cancel(signal:)`` (0 when not a signal), or nil.
    public var signal: Int32? { state.withLock { $0 } }
}

/// Thrown by ``CallbackManager/checkCancellation(_:)`` when the run was asked to stop.
public struct GenerationCancelled: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the run stopped, e.g. "after step 2/9".
    public let stage: String
    /// The signal that asked for it (0 when none).
    public let signal: Int32

    /// A cancellation at `stage`.
    public init(stage: String, signal: Int32) {
        self.stage = stage
        self.signal = signal
    }

    public var description: String { "interrupted \(stage); no image written for it" }
}
