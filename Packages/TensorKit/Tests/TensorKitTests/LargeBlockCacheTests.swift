import TensorKit
import XCTest

/// The process-wide cache of large tensor blocks: reuse, zeroing of reused blocks, its bound.
final class LargeBlockCacheTests: XCTestCase {
    let cache = LargeBlockCache.shared

    func address(_ t: Tensor) -> UInt { t.withUnsafeBytes { UInt(bitPattern: $0.baseAddress!) } }

    func testReleasedBlockIsReusedAndZeroedWhenAskedFor() {
        cache.releaseCached()
        let count = 6 << 18  // 6 MiB of floats
        var first = Tensor(zeros: [count])
        first.withUnsafeMutableBufferPointer(as: Float.self) { $0.update(repeating: 7) }
        let a = address(first)
        let mapped = cache.mappedBytes
        first = Tensor(zeros: [1])
        XCTAssertGreaterThanOrEqual(cache.cachedBytes, count * 4, "the released block is kept")
        let second = Tensor(zeros: [count])
        XCTAssertEqual(address(second), a, "the same size class gets the released block back")
        XCTAssertEqual(cache.mappedBytes, mapped, "nothing new was mapped")
        XCTAssertEqual(second.withUnsafeBufferPointer(as: Float.self) { $0.max() }, 0, "a reused block is zeroed for zeros:")
        withExtendedLifetime(first) {}
    }

    func testSmallTensorsBypassTheCache() {
        cache.releaseCached()
        let mapped = cache.mappedBytes
        do { let t = Tensor(zeros: [1000]); withExtendedLifetime(t) {} }
        XCTAssertEqual(cache.mappedBytes, mapped)
        XCTAssertEqual(cache.cachedBytes, 0)
    }

    func testCachedBytesStayWithinTheLimitAndCanBeReleased() {
        cache.releaseCached()
        let block = 40 << 20
        var tensors: [Tensor] = []
        for _ in 0..<(LargeBlockCache.shared.cachedLimit / block + 4) {
            tensors.append(Tensor(uninitialized: [block / 4], dtype: .float32))  // untouched: no resident pages
        }
        XCTAssertGreaterThan(cache.mappedBytes, LargeBlockCache.shared.cachedLimit)
        tensors.removeAll()
        XCTAssertGreaterThan(cache.cachedBytes, LargeBlockCache.shared.cachedLimit - block, "up to the limit is kept")
        XCTAssertLessThanOrEqual(cache.cachedBytes, LargeBlockCache.shared.cachedLimit, "the oldest released blocks were unmapped")
        cache.releaseCached()
        XCTAssertEqual(cache.cachedBytes, 0)
        XCTAssertEqual(cache.mappedBytes, 0, "no block is in use by a tensor now")
    }
}
