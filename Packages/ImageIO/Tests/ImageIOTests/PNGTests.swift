import Foundation
import ImageIO
import TensorKit
import XCTest

final class PNGTests: XCTestCase {
    static var fixtures: String { Bundle.module.resourcePath! + "/Fixtures" }

    func gradient(_ w: Int, _ h: Int) throws -> RGBImage {
        var px: [UInt8] = []
        for y in 0..<h { for x in 0..<w { px += [UInt8(x * 255 / max(w - 1, 1)), UInt8(y * 255 / max(h - 1, 1)), UInt8((x ^ y) & 0xff)] } }
        return try RGBImage(width: w, height: h, pixels: px)
    }

    func testRoundTripWithTextChunks() throws {
        let image = try gradient(33, 17)
        let text: PNG.TextChunks = [("prompt", "a photo of a cat"), ("mflux", "seed=42 steps=9"), ("comment", "ünïcödé ✓ 猫")]
        let bytes = try PNG.encode(image, text: text)
        let (decoded, readText) = try PNG.decode(bytes)
        XCTAssertEqual(decoded, image)
        XCTAssertEqual(readText.map(\.key), text.map(\.key))
        XCTAssertEqual(readText.map(\.value), text.map(\.value))
        // The text chunks sit before IEND and the file still ends with IEND.
        XCTAssertEqual(Array(bytes.suffix(8).prefix(4)), Array("IEND".utf8))
        XCTAssertThrowsError(try PNG.encode(image, text: [(" bad", "x")]))
        XCTAssertThrowsError(try PNG.encode(image, text: [("", "x")]))
    }

    func testReadsPillowFiles() throws {
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/expected.json"))) as! [String: Any]
        for name in ["pil_rgb.png", "pil_gray.png", "pil_palette.png"] {
            let (image, _) = try PNG.read(Self.fixtures + "/" + name)
            let rows = expected[name] as! [[[Int]]]
            XCTAssertEqual(image.height, rows.count)
            XCTAssertEqual(image.width, rows[0].count)
            XCTAssertEqual(image.pixels.map(Int.init), rows.flatMap { $0.flatMap { $0 } }, name)
        }
        let (_, text) = try PNG.read(Self.fixtures + "/pil_rgb.png")
        let want = expected["pil_rgb_text"] as! [[String]]
        XCTAssertEqual(text.map { [$0.key, $0.value] }, want)
    }

    func testAtomicWriteAndPolicies() throws {
        let dir = NSTemporaryDirectory() + "png-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.png"
        let a = try gradient(8, 8), b = try gradient(9, 4)
        try PNG.write(a, to: path, text: [("k", "v")], policy: .refuse)
        XCTAssertThrowsError(try PNG.write(b, to: path, policy: .refuse)) { XCTAssertEqual($0 as? ImageIOError, .fileExists(path)) }
        XCTAssertEqual(try PNG.read(path).image, a, "refused write leaves the file untouched")
        try PNG.write(b, to: path, policy: .replace)
        XCTAssertEqual(try PNG.read(path).image, b)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.png"])
        XCTAssertThrowsError(try PNG.write(a, to: dir + "/no/such/dir.png", policy: .refuse))
    }

    func testRejectsBadInput() throws {
        XCTAssertThrowsError(try PNG.decode([1, 2, 3]))
        var bytes = try PNG.encode(try gradient(4, 4))
        bytes.removeLast(30)
        XCTAssertThrowsError(try PNG.decode(bytes))
        XCTAssertThrowsError(try RGBImage(width: 2, height: 2, pixels: [0]))
        XCTAssertThrowsError(try RGBImage(width: 0, height: 2, pixels: []))
    }

    func testTensorConversion() throws {
        let t = Tensor(shape: [3, 1, 2], scalars: [UInt8(1), 2, 3, 4, 5, 6], dtype: .uint8)
        let img = try RGBImage(tensor: t)
        XCTAssertEqual(img.pixels, [1, 3, 5, 2, 4, 6])
        XCTAssertEqual(img.tensor().scalars(as: UInt8.self), [1, 2, 3, 4, 5, 6])
    }
}
