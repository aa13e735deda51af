#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cache of large memory blocks (4 MiB or more): mapped from the OS in size classes (at most
/// 12.5 % above the request), and on release kept for the next request of the same class instead
/// of being unmapped, up to ``cachedLimit`` bytes (the oldest released blocks go first).
///
/// Every step of a transformer allocates the same activations and kernel workspaces again;
/// without the cache each was fresh memory from the OS, paid for with one page fault per 4 KiB (a
/// full-width Z-Image block: ~600 k faults, a fifth of its time on 2 cores, more on 16 where the
/// faults contend), and glibc's arenas kept gigabytes of freed panels. Two kinds of instance:
/// ``shared`` for tensors (bounded; tensors outlive contexts) and one per ``WorkspacePool``
/// (unbounded: a context's workspace sizes repeat every call). Thread-safe.
public final class LargeBlockCache: Sendable {
    /// The cache of tensor storage in this process (at most 256 MiB of released blocks kept).
    public static let shared = LargeBlockCache(cachedLimit: 256 << 20)
    /// Blocks of this many bytes or more are cached; smaller ones come from the allocator.
    public static let threshold = 4 << 20
    /// Released bytes kept for reuse at most.
    public let cachedLimit: Int

    private struct State {
        /// Released blocks per size class (addresses).
        var free: [Int: [UInt]] = [:]
        /// Released blocks, oldest first (size class, address).
        var order: [(size: Int, address: UInt)] = []
        var cachedBytes = 0
        var mappedBytes = 0
    }
    private let state = Locked(State())

    /// A cache keeping at most `cachedLimit` released bytes (`Int.max`: every block is kept until
    /// the cache goes).
    public init(cachedLimit: Int) {
        self.cachedLimit = cachedLimit
    }

    deinit { releaseCached() }

    /// The size class of a request of `bytes` (≥ ``threshold``): rounded up to an eighth of its
    /// power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        var p = 1
        while p <= bytes / 2 { p <<= 1 }
        let step = max(p / 8, 1 << 16)
        return (bytes + step - 1) / step * step
    }

    /// A block of at least `bytes` (≥ ``threshold``), page aligned, and whether it was mapped
    /// just now (then it holds zeros); a reused block's contents are undefined.
    func take(_ bytes: Int) -> (pointer: UnsafeMutableRawPointer, fresh: Bool) {
        let size = LargeBlockCache.sizeClass(bytes)
        let reused: UInt? = state.withLock { s in
            guard let a = s.free[size]?.popLast() else { return nil }
            s.cachedBytes -= size
            if let i = s.order.lastIndex(where: { $0.address == a }) { s.order.remove(at: i) }
            return a
        }
        if let reused { return (UnsafeMutableRawPointer(bitPattern: reused)!, false) }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else { fatalError("out of memory: cannot map \(size) bytes") }
        state.withLock { $0.mappedBytes += size }
        return (p, true)
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
            while s.cachedBytes > cachedLimit, !s.order.isEmpty {
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
