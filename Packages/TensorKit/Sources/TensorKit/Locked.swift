#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a POSIX mutex: the project's lock for state shared between threads. Used
/// instead of `Synchronization.Mutex` because ThreadSanitizer sees `pthread_mutex_lock` (it
/// intercepts it) but not the Linux `Mutex`, whose futex-based lock lives in the uninstrumented
/// standard library and makes every correctly locked access look like a race.
public final class Locked<Value>: @unchecked Sendable {
    // Audited: `value` is read and written only inside `withLock`, while `mutex` is held.
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// A lock around `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the value with the lock held.
    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
