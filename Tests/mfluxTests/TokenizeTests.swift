import Foundation
import SafetensorsIO
import TensorKit
import XCTest

/// `mflux tokenize` against the `tokenizers` library's ids: the real-vocabulary fixture and the
/// tiny pipelines' chat inputs.
final class TokenizeTests: XCTestCase {
    static let exports = MFluxBinary.repositoryRoot + "/ReferenceExports"

    func parseLines(_ out: String) -> [[Int]] {
        out.split(separator: "\n").map { line in
            line.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
        }
    }

    func testRealVocabularyFixture() throws {
        // The fixture's tokenizer is stored gzipped; unpack it into a model-like folder.
        let dir = NSTemporaryDirectory() + "mflux-tok-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/tokenizer", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gunzip.arguments = ["-c", "gunzip -c '\(Self.exports)/tokenizer/tokenizer.json.gz' > '\(dir)/tokenizer/tokenizer.json'"]
        try gunzip.run()
        gunzip.waitUntilExit()
        XCTAssertEqual(gunzip.terminationStatus, 0)
        try FileManager.default.copyItem(atPath: Self.exports + "/tokenizer/tokenizer_config.json", toPath: dir + "/tokenizer/tokenizer_config.json")
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.exports + "/tokenizer/fixture.json"))) as! [String: Any]
        let items = fixture["texts"] as! [[String: Any]]
        let r = try MFluxBinary.run(["tokenize", "--model", dir, "--"] + items.map { $0["text"] as! String })
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = parseLines(r.stdout)
        XCTAssertEqual(lines.count, items.count)
        for (item, ids) in zip(items, lines) {
            XCTAssertEqual(ids, item["ids"] as! [Int], "\((item["text"] as! String).prefix(40))")
        }
    }

    func testChatIdsOfTheTinyPipelines() throws {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.exports + "/index.json"))) as! [String: Any]
        let names = index["cases"] as! [String]
        XCTAssertGreaterThanOrEqual(names.count, 10, "every case")
        for name in names {
            let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.exports)/\(name)/manifest.json"))) as! [String: Any]
            let r = try MFluxBinary.run(["tokenize", "--model", "\(Self.exports)/\(m["checkpoint"] as! String)", "--chat", "--", m["prompt"] as! String])
            XCTAssertEqual(r.status, 0, r.stderr)
            let file = try SafetensorsFile(path: "\(Self.exports)/\(name)/tensors.safetensors")
            let ids = try file.tensor("tokenizer.input_ids").integers()!
            let mask = try file.tensor("tokenizer.attention_mask").integers()!
            XCTAssertEqual(parseLines(r.stdout).first, Array(ids.prefix(mask.reduce(0, +))), name)
        }
        let bad = try MFluxBinary.run(["tokenize", "--model", Self.exports + "/nowhere", "--", "x"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderrLines.count, 1)
    }
}
