import Synchronization
/// Reusable kernel workspaces (weight panels, im2col bands, packed operands) of a
/// ``ComputeContext``: blocks of 4 MiB or more come from the pool's own ``LargeBlockCache`` (mapped
/// once per size class, handed out again instead of freed, never unmapped before the pool goes),
/// so a long run neither pays page faults for fresh memory in every GEMM nor leaves glibc's arenas
/// holding gigabytes of freed panels (a full-depth fp32 step grew 10 GiB that way). Smaller blocks
/// come from the allocator. Thread-safe.
public final class WorkspacePool: Sendable {
    private let blocks = LargeBlockCache(cachedLimit: .max)
    private let live = Atomic<Int>(0), peak = Atomic<Int>(0)

    /// An empty pool.
    public init() {}

    /// The most bytes taken and not yet given back at one time (all workers together) since the
    /// pool was made: what a kernel's workspace actually used.
    public var peakBytesInUse: Int { peak.load(ordering: .relaxed) }

    /// Bytes mapped by this pool so far (its high-water mark: blocks are reused, never unmapped
    /// before the pool goes).
    public var totalMappedBytes: Int { blocks.mappedBytes }

    /// A block of at least `count` elements of `T` (64-byte aligned); give it back with ``give(_:_:)``.
    func take<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        let now = live.wrappingAdd(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, current) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = current
        }
        let raw = bytes < LargeBlockCache.threshold
            ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) : blocks.take(bytes).pointer
        return raw.bindMemory(to: T.self, capacity: count)
    }

    /// Returns a block from ``take(_:_:)`` of the same `count`.
    func give<T>(_ pointer: UnsafeMutablePointer<T>, _ count: Int) {
        let bytes = max(count * MemoryLayout<T>.stride, 64)
        live.wrappingSubtract(bytes, ordering: .relaxed)
        if bytes < LargeBlockCache.threshold {
            UnsafeMutableRawPointer(pointer).deallocate()
        } else {
            blocks.give(UnsafeMutableRawPointer(pointer), bytes)
        }
    }
}
