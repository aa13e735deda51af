import Foundation
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// The bundled demo model (Models/zimage-demo) draws what its captions say: on 60 captions of the
/// grammar that training never saw verbatim (sampled with a fixed seed by
/// scripts/demo/scenes.py `held_out_captions()`, stored here), the median colour of the central
/// half of each object's grid cell is nearest (among the 8 CSS colours) to the object's colour, and
/// that of the four edge-middle cells (which never hold an object) to the background's.
final class DemoModelTests: XCTestCase {
    static let captions = [
        "a red triangle at the top right on a white background",
        "a white square at the bottom right and a black triangle at the bottom left on a yellow background",
        "a green circle at the bottom right on a yellow background",
        "a white square at the bottom right and a white square at the bottom left on a red background",
        "a black circle in the center and a white triangle at the bottom right on a blue background",
        "a white square in the center on a green background",
        "a yellow square at the bottom right and a black square at the top left on a green background",
        "a yellow square at the top right and a white circle in the center on a purple background",
        "a blue triangle in the center and a orange triangle at the top left on a purple background",
        "a red circle at the top left on a black background",
        "a yellow circle at the bottom left and a red square at the top left on a blue background",
        "a purple circle at the top right and a red circle in the center on a green background",
        "a blue circle at the bottom right on a white background",
        "a green triangle at the bottom right on a blue background",
        "a black square in the center and a black square at the bottom left on a blue background",
        "a yellow circle at the top left and a green triangle at the top right on a black background",
        "a orange square at the top left on a purple background",
        "a blue triangle at the bottom left and a yellow square at the bottom right on a black background",
        "a red square at the top left on a black background",
        "a blue square at the top left and a green circle at the bottom right on a white background",
        "a black circle at the top right and a yellow triangle at the bottom right on a purple background",
        "a red circle in the center and a red square at the bottom right on a green background",
        "a orange triangle at the top left on a purple background",
        "a blue triangle at the bottom right on a purple background",
        "a white triangle at the top right on a green background",
        "a white square at the top right and a green square in the center on a blue background",
        "a blue circle in the center and a black triangle at the top left on a white background",
        "a orange circle at the bottom right on a white background",
        "a purple square at the bottom left and a green circle at the top left on a blue background",
        "a orange circle at the top right and a yellow triangle at the bottom right on a purple background",
        "a black circle at the top left and a yellow circle at the bottom left on a red background",
        "a white square at the bottom left and a white circle in the center on a yellow background",
        "a black square at the top right on a white background",
        "a black square at the bottom left and a black circle at the top left on a blue background",
        "a black triangle at the bottom right and a black triangle at the top right on a yellow background",
        "a orange square at the bottom right and a black square at the top left on a blue background",
        "a yellow triangle at the bottom right and a yellow triangle at the top right on a red background",
        "a black triangle at the bottom right and a yellow circle at the top right on a purple background",
        "a white square at the bottom right and a orange triangle at the bottom left on a red background",
        "a black circle at the bottom left on a orange background",
        "a purple square at the bottom right and a blue triangle in the center on a red background",
        "a yellow triangle at the top right and a red circle in the center on a blue background",
        "a yellow square at the bottom right on a white background",
        "a blue square at the bottom right and a red square at the top right on a white background",
        "a orange circle in the center on a yellow background",
        "a white circle at the bottom right and a purple square in the center on a green background",
        "a white circle at the bottom left on a green background",
        "a white triangle at the top right and a red square in the center on a green background",
        "a orange square at the bottom right on a white background",
        "a green triangle at the top left and a orange triangle at the bottom left on a red background",
        "a red circle in the center on a blue background",
        "a white triangle at the bottom left on a purple background",
        "a white circle at the top right and a purple triangle in the center on a black background",
        "a blue square at the top left and a purple square at the top right on a orange background",
        "a yellow triangle in the center and a black square at the bottom left on a blue background",
        "a yellow square in the center and a yellow triangle at the top right on a orange background",
        "a black circle in the center on a orange background",
        "a purple square in the center on a blue background",
        "a yellow circle at the bottom left and a purple triangle at the top right on a green background",
        "a yellow square at the bottom right on a green background"

    ]
    static let colours: [String: (Double, Double, Double)] = [
        "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
        "orange": (255, 165, 0), "purple": (128, 0, 128), "white": (255, 255, 255), "black": (0, 0, 0),
    ]
    static let positions: [String: (Int, Int)] = [
        "at the top left": (0, 0), "at the top right": (0, 2), "at the bottom left": (2, 0),
        "at the bottom right": (2, 2), "in the center": (1, 1),
    ]

    /// Objects `(colour, position)` and the background of a grammar caption.
    static func parse(_ caption: String) -> (objects: [(String, String)], background: String)? {
        guard caption.hasPrefix("a "), caption.hasSuffix(" background"), let on = caption.range(of: " on a ", options: .backwards) else { return nil }
        let background = String(caption[on.upperBound...].dropLast(" background".count))
        let head = caption[caption.index(caption.startIndex, offsetBy: 2)..<on.lowerBound]
        var objects: [(String, String)] = []
        for part in head.components(separatedBy: " and a ") {
            let words = part.split(separator: " ", maxSplits: 2).map(String.init)
            guard words.count == 3, colours[words[0]] != nil, positions[words[2]] != nil else { return nil }
            objects.append((words[0], words[2]))
        }
        guard colours[background] != nil else { return nil }
        return (objects, background)
    }

    /// The CSS colour nearest to the per-channel median of the central half of cell (row, col).
    static func cellColour(_ px: [UInt8], size: Int, row: Int, col: Int) -> String {
        let cell = Double(size) / 3, m = cell / 4
        let y0 = Int((Double(row) * cell + m).rounded()), y1 = Int((Double(row + 1) * cell - m).rounded())
        let x0 = Int((Double(col) * cell + m).rounded()), x1 = Int((Double(col + 1) * cell - m).rounded())
        var channels: [[Double]] = [[], [], []]
        for y in y0..<y1 { for x in x0..<x1 { for c in 0..<3 { channels[c].append(Double(px[(y * size + x) * 3 + c])) } } }
        let median = channels.map { v -> Double in
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return colours.min { a, b in
            func d(_ c: (Double, Double, Double)) -> Double { pow(median[0] - c.0, 2) + pow(median[1] - c.1, 2) + pow(median[2] - c.2, 2) }
            return d(a.value) < d(b.value)
        }!.key
    }

    func testHeldOutCaptionsShowTheirColours() throws {
        XCTAssertEqual(Self.captions.count, 60)
        XCTAssertEqual(Set(Self.captions).count, 60)
        let root = URL(fileURLWithPath: try ReferenceExports.root()).deletingLastPathComponent().path
        let model = try ZImageTurbo(modelPath: root + "/Models/zimage-demo")
        let generator = Generator(model: model)
        let ctx = try ComputeContext()
        var objectsOK = 0, objects = 0, backgroundsOK = 0
        for (i, caption) in Self.captions.enumerated() {
            let (wanted, background) = try XCTUnwrap(Self.parse(caption), caption)
            let image = try generator.generate(GenerationRequest(prompt: caption, seed: UInt64(i), defaults: ZImageTurbo.demoDefaults), context: ctx)
            let px = image.pixels.scalars(as: UInt8.self), size = image.pixels.shape[0]
            for (colour, position) in wanted {
                let (r, c) = Self.positions[position]!
                objects += 1
                if Self.cellColour(px, size: size, row: r, col: c) == colour { objectsOK += 1 }
            }
            if [(0, 1), (1, 0), (1, 2), (2, 1)].allSatisfy({ Self.cellColour(px, size: size, row: $0.0, col: $0.1) == background }) {
                backgroundsOK += 1
            }
        }
        let objectRate = Double(objectsOK) / Double(objects), backgroundRate = Double(backgroundsOK) / Double(Self.captions.count)
        print("measured demo colour test: objects \(objectsOK)/\(objects) (\(String(format: "%.1f", 100 * objectRate)) %), backgrounds \(backgroundsOK)/\(Self.captions.count) (\(String(format: "%.1f", 100 * backgroundRate)) %)")
        XCTAssertGreaterThanOrEqual(objectRate, 0.9)
        XCTAssertGreaterThanOrEqual(backgroundRate, 0.9)
    }

    /// The checker itself: the parser rejects what is not the grammar, and a rendered scene with the
    /// wrong colours fails it.
    func testTheCheckCanFail() {
        XCTAssertNil(Self.parse("a cat on a mat"))
        XCTAssertNil(Self.parse("a pink circle in the center on a blue background"))
        XCTAssertEqual(Self.parse("a red circle in the center and a white square at the top left on a blue background")?.objects.count, 2)
        // A blue 48x48 image with a red square in the centre cell.
        var px = [UInt8](repeating: 0, count: 48 * 48 * 3)
        for y in 0..<48 { for x in 0..<48 {
            let inCentre = (16..<32).contains(y) && (16..<32).contains(x)
            px[(y * 48 + x) * 3 + (inCentre ? 0 : 2)] = 255
        } }
        XCTAssertEqual(Self.cellColour(px, size: 48, row: 1, col: 1), "red")
        XCTAssertEqual(Self.cellColour(px, size: 48, row: 0, col: 1), "blue")
        XCTAssertNotEqual(Self.cellColour(px, size: 48, row: 1, col: 1), "green")
    }
}
