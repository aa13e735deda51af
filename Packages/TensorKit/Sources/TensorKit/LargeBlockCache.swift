import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's cache of large tensor blocks (4 MiB or more): mapped from the OS in size classes
/// (at most 12.5 % above the request), and on release kept for the next tensor of the same class
/// instead of being unmapped, up to ``cachedLimit`` bytes (the oldest released blocks go first).
///
/// Every step of a transformer allocates the same activations again; without the cache each one
/// was fresh memory from the OS, paid for with one page fault per 4 KiB (a full-width Z-Image
/// block: ~600 k faults, a fifth of its time on 2 cores, more on 16 where the faults contend).
/// Thread-safe; one instance per process (``shared``), since tensors outlive contexts.
public final class LargeBlockCache: Sendable {
    /// The cache of this process.
    public static let shared = LargeBlockCache()
    /// Blocks of this many bytes or more are cached; smaller ones come from the allocator.
    public static let threshold = 4 << 20
    /// Released bytes kept for reuse at most.
    public static let cachedLimit = 256 << 20

    private struct State {
        /// Released blocks per size class (addresses).
        var free: [Int: [UInt]] = [:]
        /// Released blocks, oldest first (size class, address).
        var order: [(size: Int, address: UInt)] = []
        var cachedBytes = 0
        var mappedBytes = 0
    }
    private let state = Mutex(State())

    private init() {}

    /// The size class of a request of `bytes` (≥ ``threshold``): rounded up to an eighth of its
    /// power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        var p = 1
        while p <= bytes / 2 { p <<= 1 }
        let step = max(p / 8, 1 << 16)
        return (bytes + step - 1) / step * step
    }

    /// A block of at least `bytes` (≥ ``threshold``), page aligned; contents undefined.
    func take(_ bytes: Int) -> UnsafeMutableRawPointer {
        let size = LargeBlockCache.sizeClass(bytes)
        let reused: UInt? = state.withLock { s in
            guard let a = s.free[size]?.popLast() else { return nil }
            s.cachedBytes -= size
            if let i = s.order.lastIndex(where: { $0.address == a }) { s.order.remove(at: i) }
            return a
        }
        if let reused { return UnsafeMutableRawPointer(bitPattern: reused)! }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { fatalError("out of memory: cannot map \(size) bytes") }
        state.withLock { $0.mappedBytes += size }
        return p
    }

    /// Gives back a block from ``take(_:)`` of the same `bytes`.
    func give(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
        let size = LargeBlockCache.sizeClass(bytes)
        let evicted: [(size: Int, address: UInt)] = state.withLock { s in
            let a = UInt(bitPattern: pointer)
            s.free[size, default: []].append(a)
            s.order.append((size, a))
            s.cachedBytes += size
            var out: [(size: Int, address: UInt)] = []
            while s.cachedBytes > LargeBlockCache.cachedLimit, !s.order.isEmpty {
                let old = s.order.removeFirst()
                if let i = s.free[old.size]?.firstIndex(of: old.address) { s.free[old.size]!.remove(at: i) }
                s.cachedBytes -= old.size
                s.mappedBytes -= old.size
                out.append(old)
            }
            return out
        }
        for b in evicted { munmap(UnsafeMutableRawPointer(bitPattern: b.address), b.size) }
    }

    /// Unmaps every cached block (e.g. after a model component is released, so its activation
    /// sizes do not stay resident while the next component runs).
    public func releaseCached() {
        let blocks: [(size: Int, address: UInt)] = state.withLock { s in
            let all = s.order
            s.mappedBytes -= s.cachedBytes
            s.free = [:]
            s.order = []
            s.cachedBytes = 0
            return all
        }
        for b in blocks { munmap(UnsafeMutableRawPointer(bitPattern: b.address), b.size) }
    }

    /// Bytes released and kept for reuse now.
    public var cachedBytes: Int { state.withLock { $0.cachedBytes } }
    /// Bytes mapped by the cache now (in use by tensors plus cached).
    public var mappedBytes: Int { state.withLock { $0.mappedBytes } }
}
