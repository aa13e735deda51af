import CZlibTestSupport
import Foundation
import SafetensorsIO
import Tokenizers
import XCTest

/// The tokenizer against the `tokenizers` library: the real-vocabulary fixture (~300 texts, the
/// pipelines' chat-wrapped 512-token inputs) and the tiny checkpoints' own tokenizers.
final class TokenizerFixtureTests: XCTestCase {
    static var exports: String {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.path + "/ReferenceExports/index.json") { return url.path + "/ReferenceExports" }
        }
        return ProcessInfo.processInfo.environment["MFLUX_REFERENCE_EXPORTS"] ?? "ReferenceExports"
    }

    static func gunzip(_ data: Data) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw TokenizerError.io("inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var out = Data()
        var input = [UInt8](data)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let status: Int32 = input.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = UInt32(inp.count)
            var s: Int32 = Z_OK
            repeat {
                s = buffer.withUnsafeMutableBufferPointer { buf in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = UInt32(buf.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                out.append(contentsOf: buffer[0..<(buffer.count - Int(stream.avail_out))])
            } while s == Z_OK
            return s
        }
        guard status == Z_STREAM_END else { throw TokenizerError.io("gzip stream is corrupt (\(status))") }
        return out
    }

    static let real: Tokenizer = {
        let dir = exports + "/tokenizer"
        let json = try! gunzip(Data(contentsOf: URL(fileURLWithPath: dir + "/tokenizer.json.gz")))
        return try! Tokenizer(tokenizerJSON: json, configJSON: FileManager.default.contents(atPath: dir + "/tokenizer_config.json"), source: dir)
    }()

    func fixture() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.exports + "/tokenizer/fixture.json"))) as! [String: Any]
    }

    func testRealVocabularyTexts() throws {
        let tok = Self.real
        XCTAssertEqual(tok.encode("Hello, world!"), [9707, 11, 1879, 0])
        XCTAssertEqual(tok.padTokenId, 151643)
        var checked = 0
        for case let item as [String: Any] in try fixture()["texts"] as! [Any] {
            let text = item["text"] as! String
            let ids = item["ids"] as! [Int]
            let got = tok.encode(text)
            XCTAssertEqual(got, ids, "text \(text.unicodeScalars.map { String($0.value, radix: 16) }.prefix(40))")
            // Decoding gives back the NFC text (compared scalar by scalar: String equality is
            // canonical equivalence and would hide a normalisation difference).
            XCTAssertEqual(Array(tok.decode(got).unicodeScalars), Array(text.precomposedStringWithCanonicalMapping.unicodeScalars))
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 290)
    }

    func testRealVocabularyChatInputs() throws {
        let tok = Self.real
        for case let item as [String: Any] in try fixture()["chat"] as! [Any] {
            let prompt = item["prompt"] as! String
            let text = (item["pipeline"] as! String) == "ZImagePipeline" ? ChatTemplate.zImage(prompt) : ChatTemplate.flux2Klein(prompt)
            XCTAssertEqual(text, item["chat_text"] as! String)
            let (ids, mask) = try tok.encode(text, maxLength: 512)
            XCTAssertEqual(ids, item["input_ids"] as! [Int], "\(item["pipeline"]!) \(prompt.prefix(30))")
            XCTAssertEqual(mask, item["attention_mask"] as! [Int])
        }
    }

    func testTinyCheckpointTokenizers() throws {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.exports + "/index.json"))) as! [String: Any]
        let names = index["cases"] as! [String]
        XCTAssertGreaterThanOrEqual(names.count, 10, "every case")
        for name in names {
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.exports)/\(name)/manifest.json"))) as! [String: Any]
            let tok = try Tokenizer(folder: "\(Self.exports)/\(manifest["checkpoint"] as! String)/tokenizer")
            let prompt = manifest["prompt"] as! String
            let text = name.hasPrefix("zimage") ? ChatTemplate.zImage(prompt) : ChatTemplate.flux2Klein(prompt)
            let (ids, mask) = try tok.encode(text, maxLength: 512)
            let tensors = try SafetensorsFile(path: "\(Self.exports)/\(name)/tensors.safetensors")
            XCTAssertEqual(ids, try tensors.tensor("tokenizer.input_ids").integers(), name)
            XCTAssertEqual(mask, try tensors.tensor("tokenizer.attention_mask").integers(), name)
        }
    }
}
