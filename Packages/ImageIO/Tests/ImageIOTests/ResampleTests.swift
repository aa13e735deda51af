import Foundation
import ImageIO
import XCTest

/// `Resample.resize` against Pillow's own `Image.resize` (fixtures from
/// scripts/reference/make_resample_fixtures.py): every value equal, for each filter, shrinking,
/// enlarging and one axis at a time.
final class ResampleTests: XCTestCase {
    static var fixtures: String { Bundle.module.resourcePath! + "/Fixtures/resample" }

    func testEveryFilterAndSizeMatchesPillow() throws {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/index.json"))) as! [String: Any]
        let input = try PNG.read(Self.fixtures + "/input.png").image
        let cases = index["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 27)
        for c in cases {
            let filter = Resample.Filter(rawValue: c["filter"] as! String)!
            let (w, h) = (c["width"] as! Int, c["height"] as! Int)
            let expected = try PNG.read(Self.fixtures + "/" + (c["file"] as! String)).image
            let ours = try Resample.resize(input, width: w, height: h, filter: filter)
            XCTAssertEqual(ours.width, w)
            XCTAssertEqual(ours.height, h)
            let differing = zip(ours.pixels, expected.pixels).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "\(filter) \(w)x\(h): \(differing) values differ from Pillow")
        }
        XCTAssertEqual(try Resample.resize(input, width: input.width, height: input.height), input)
        XCTAssertThrowsError(try Resample.resize(input, width: 0, height: 4))
    }
}
