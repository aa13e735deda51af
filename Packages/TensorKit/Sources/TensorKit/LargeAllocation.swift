#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for kernel workspaces (weight panels, im2col bands, packed operands): blocks of at least
/// ``threshold`` bytes are mapped straight from the OS (and returned to it when freed), smaller
/// ones come from the allocator.
///
/// Why: glibc raises its mmap threshold after large frees (up to 32 MiB), so the many
/// differently sized panels of every linear then come from per-thread arenas that keep their
/// pages: a denoising step of the full-size Z-Image in fp32 grew 10 GiB of anonymous memory that
/// way. Tensors themselves stay with the allocator (mapping each activation costs page faults).
enum LargeAllocation {
    /// Blocks of this many bytes or more are mapped.
    static let threshold = 1 << 22

    /// `byteCount` bytes, 64-byte aligned (mapped blocks: page aligned and zero-filled).
    static func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount >= threshold {
            let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let p, p != MAP_FAILED else {
                // As the allocator itself does when memory runs out.
                fatalError("out of memory: cannot map \(byteCount) bytes")
            }
            return p
        }
        return UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
    }

    /// Frees a block from ``allocate(_:)`` of the same `byteCount`.
    static func deallocate(_ pointer: UnsafeMutableRawPointer, _ byteCount: Int) {
        if byteCount >= threshold {
            munmap(pointer, byteCount)
        } else {
            pointer.deallocate()
        }
    }

    /// Typed workspace of `count` elements, freed by ``free(_:_:)``.
    static func workspace<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        allocate(count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: count)
    }

    /// Frees a ``workspace(_:_:)`` of `count` elements.
    static func free<T>(_ pointer: UnsafeMutablePointer<T>, _ count: Int) {
        deallocate(UnsafeMutableRawPointer(pointer), count * MemoryLayout<T>.stride)
    }
}
