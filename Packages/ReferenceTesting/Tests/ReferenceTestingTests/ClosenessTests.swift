import ReferenceTesting
import TensorKit
import XCTest

/// The closeness helpers' failure branches fire (their reports are captured, so this test passes
/// only when each mismatch is reported and each match is not).
final class ClosenessTests: XCTestCase {
    func testReferenceCloseReportsWhatExceedsTheTolerance() {
        var reports: [String] = []
        let a = Tensor(shape: [4], floats: [1, 2, 3, 4]), b = Tensor(shape: [4], floats: [1, 2, 3, 4.01])
        _ = assertReferenceClose(a, b, tolerance: 1e-2, "within", report: { reports.append($0) })
        XCTAssertEqual(reports, [])
        _ = assertReferenceClose(a, b, tolerance: 1e-4, "outside", report: { reports.append($0) })
        XCTAssertEqual(reports.count, 1)
        XCTAssertTrue(reports.first?.contains("outside: rel 2.494e-03") ?? false, "\(reports)")
        _ = assertReferenceClose(a, Tensor(shape: [2, 2], floats: [1, 2, 3, 4]), tolerance: 1, "shape", report: { reports.append($0) })
        XCTAssertEqual(reports.count, 2)
        XCTAssertTrue(reports.last?.contains("shape [4] != reference [2, 2]") ?? false, "\(reports)")
        _ = assertReferenceClose(Tensor(shape: [1], floats: [.nan]), Tensor(shape: [1], floats: [1]), tolerance: 1, "nan",
                                 report: { reports.append($0) })
        XCTAssertEqual(reports.count, 3, "NaN is never close")
    }

    func testImagesMatchReportsTheImagePolicy() {
        var reports: [String] = []
        let a = [UInt8](repeating: 100, count: 1000)
        var b = a
        XCTAssertNotNil(assertImagesMatch(a, b, "same", report: { reports.append($0) }))
        XCTAssertEqual(reports, [])
        b[0] = 104  // one value 4 levels off: above max 3
        _ = assertImagesMatch(a, b, "four", report: { reports.append($0) })
        XCTAssertEqual(reports.count, 1)
        b[0] = 100
        for i in 0..<20 { b[i] = 102 }  // 2 % of values 2 levels off: under 99 % within 1
        _ = assertImagesMatch(a, b, "many", report: { reports.append($0) })
        XCTAssertEqual(reports.count, 2)
        XCTAssertTrue(reports.last?.contains("0.9800 of values within 1 level") ?? false, "\(reports)")
        _ = assertImagesMatch(a, [UInt8](a.dropLast()), "size", report: { reports.append($0) })
        XCTAssertEqual(reports.count, 3)
    }
}
