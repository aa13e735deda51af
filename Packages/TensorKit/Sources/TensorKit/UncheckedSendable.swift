/// Wraps a value that is shared with worker threads whose accesses are disjoint by
/// construction (audited at each use: `parallelFor` / `parallelChunks` callers write only their
/// own indices).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
