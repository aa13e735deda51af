@testable import TensorKit
import XCTest

/// Workspaces of 4 MiB or more are mapped once per size class and reused; smaller ones come from
/// the allocator.
final class WorkspacePoolTests: XCTestCase {
    func testLargeBlocksAreReusedBySizeClass() {
        let pool = WorkspacePool()
        let n = (5 << 20) / 4  // 5 MiB of floats -> the 8 MiB class
        let a = pool.take(Float.self, n)
        a[n - 1] = 1  // usable to the end
        XCTAssertEqual(pool.totalMappedBytes, 8 << 20)
        let b = pool.take(Float.self, n)
        XCTAssertNotEqual(a, b, "a block in use is not handed out twice")
        XCTAssertEqual(pool.totalMappedBytes, 16 << 20)
        pool.give(a, n)
        let c = pool.take(Float.self, (6 << 20) / 4)
        XCTAssertEqual(c, a, "a returned block of the same class is reused")
        XCTAssertEqual(pool.totalMappedBytes, 16 << 20, "nothing new was mapped")
        pool.give(b, n)
        pool.give(c, (6 << 20) / 4)
        let small = pool.take(Float.self, 1000)
        small[999] = 2
        pool.give(small, 1000)
        XCTAssertEqual(pool.totalMappedBytes, 16 << 20, "small blocks come from the allocator")
        XCTAssertEqual(WorkspacePool.sizeClass(4 << 20), 4 << 20)
        XCTAssertEqual(WorkspacePool.sizeClass((4 << 20) + 1), 8 << 20)
    }
}
