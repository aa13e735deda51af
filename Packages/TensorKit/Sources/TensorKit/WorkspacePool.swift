import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reusable kernel workspaces (weight panels, im2col bands, packed operands) of a
/// ``ComputeContext``: blocks of 4 MiB or more are mapped from the OS once, in power-of-two size
/// classes, and handed out again instead of being freed, so a long run neither pays page faults
/// for fresh memory in every GEMM nor leaves glibc's arenas holding gigabytes of freed panels
/// (glibc raises its mmap threshold after large frees; a full-depth fp32 step grew 10 GiB that
/// way). Smaller blocks come from the allocator. Thread-safe.
public final class WorkspacePool: Sendable {
    /// Blocks of this many bytes or more are pooled.
    public static let threshold = 4 << 20
    private let free = Mutex<[Int: [UInt]]>([:])
    private let mappedBytes = Mutex<Int>(0)

    /// An empty pool.
    public init() {}

    deinit {
        free.withLock { lists in
            for (size, blocks) in lists { for b in blocks { munmap(UnsafeMutableRawPointer(bitPattern: b), size) } }
        }
    }

    /// Bytes mapped by this pool so far (its high-water mark: blocks are reused, never unmapped
    /// before the pool goes).
    public var totalMappedBytes: Int { mappedBytes.withLock { $0 } }

    /// A block of at least `count` elements of `T` (64-byte aligned); give it back with ``give(_:_:)``.
    func take<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        if bytes < WorkspacePool.threshold {
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: T.self, capacity: count)
        }
        let size = WorkspacePool.sizeClass(bytes)
        if let reused = free.withLock({ $0[size]?.popLast() }) {
            return UnsafeMutableRawPointer(bitPattern: reused)!.bindMemory(to: T.self, capacity: count)
        }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { fatalError("out of memory: cannot map \(size) bytes") }
        mappedBytes.withLock { $0 += size }
        return p.bindMemory(to: T.self, capacity: count)
    }

    /// Returns a block from ``take(_:_:)`` of the same `count`.
    func give<T>(_ pointer: UnsafeMutablePointer<T>, _ count: Int) {
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        if bytes < WorkspacePool.threshold {
            UnsafeMutableRawPointer(pointer).deallocate()
            return
        }
        let size = WorkspacePool.sizeClass(bytes)
        free.withLock { $0[size, default: []].append(UInt(bitPattern: pointer)) }
    }

    /// The power of two at or above `bytes`.
    static func sizeClass(_ bytes: Int) -> Int {
        var s = threshold
        while s < bytes { s <<= 1 }
        return s
    }
}
