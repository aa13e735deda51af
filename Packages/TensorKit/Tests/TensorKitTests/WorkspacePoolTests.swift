@testable import TensorKit
import XCTest

/// Workspaces of 4 MiB or more are mapped once per size class and reused; smaller ones come from
/// the allocator.
final class WorkspacePoolTests: XCTestCase {
    func testLargeBlocksAreReusedBySizeClass() {
        let pool = WorkspacePool()
        let n = (5 << 20) / 4  // 5 MiB of floats: its own size class (eighths of 4 MiB above 4 MiB)
        let a = pool.take(Float.self, n)
        a[n - 1] = 1  // usable to the end
        XCTAssertEqual(pool.totalMappedBytes, 5 << 20)
        let b = pool.take(Float.self, n)
        XCTAssertNotEqual(a, b, "a block in use is not handed out twice")
        XCTAssertEqual(pool.totalMappedBytes, 10 << 20)
        pool.give(a, n)
        let c = pool.take(Float.self, n - 1000)
        XCTAssertEqual(c, a, "a returned block of the same class is reused")
        XCTAssertEqual(pool.totalMappedBytes, 10 << 20, "nothing new was mapped")
        pool.give(b, n)
        pool.give(c, n - 1000)
        let small = pool.take(Float.self, 1000)
        small[999] = 2
        pool.give(small, 1000)
        XCTAssertEqual(pool.totalMappedBytes, 10 << 20, "small blocks come from the allocator")
        XCTAssertEqual(LargeBlockCache.sizeClass(4 << 20), 4 << 20)
        XCTAssertEqual(LargeBlockCache.sizeClass((4 << 20) + 1), (4 << 20) + (512 << 10))
        XCTAssertEqual(LargeBlockCache.sizeClass((9 << 20) + 1), 10 << 20)
        // Unlike the tensors' shared cache (256 MiB), a pool keeps every released block: three
        // 96 MiB workspaces given back are all there for the next call (untouched: no memory used).
        let big = (96 << 20) / 4
        for _ in 0..<2 {
            let blocks = (0..<3).map { _ in pool.take(Float.self, big) }
            for p in blocks { pool.give(p, big) }
            XCTAssertEqual(pool.totalMappedBytes, (10 << 20) + (288 << 20))
        }
    }
}
