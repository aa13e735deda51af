import TensorKit
import XCTest

final class StatisticsTests: XCTestCase {
    func testStatisticsHandChecked() throws {
        let ctx = try ComputeContext(threadCount: 1)
        let s = ctx.statistics(Tensor(shape: [5], floats: [1, 2, 3, 4, .nan]).converted(to: .bfloat16, context: ctx))!
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 4)
        XCTAssertEqual(s.mean, 2.5)
        XCTAssertEqual(s.std!, 1.118033988749895, accuracy: 1e-12)
        XCTAssertEqual(s.nanCount, 1)
        let big = ctx.statistics(Tensor(shape: [3], floats: [1e8, 1e8 + 8, 1e8 + 16]))!
        XCTAssertEqual(big.std!, 6.531972647421808, accuracy: 1e-9, "stable for large means")
        let ids = ctx.statistics(Tensor(shape: [2], scalars: [Int64(-3), 5], dtype: .int64))!
        XCTAssertEqual(ids.mean, 1)
        XCTAssertNil(ctx.statistics(Tensor(zeros: [0])).flatMap { $0.min })
        XCTAssertNil(ctx.statistics(Tensor(zeros: [2], dtype: .float8E4M3)))
    }
}
