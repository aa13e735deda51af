import Foundation
import Tokenizers
import XCTest

/// Splits of the Qwen pre-tokenizer regex against what Hugging Face `tokenizers` gives
/// (`pre_tokenizers.Split(Regex(pattern), "isolated").pre_tokenize_str`), from a committed fixture.
final class PreTokenizerTests: XCTestCase {
    func pieces(_ s: String) -> [String] {
        let sc = Array(s.unicodeScalars)
        return QwenPreTokenizer.split(sc).map { r in String(String.UnicodeScalarView(sc[r])) }
    }

    /// Every case of Fixtures/pretokenizer.json (scripts/reference/make_pretokenizer_fixtures.py:
    /// the pieces Hugging Face `tokenizers` gives), and the pattern is the one used here.
    func testSplitsMatchHuggingFaceTokenizers() throws {
        let url = URL(fileURLWithPath: Bundle.module.resourcePath! + "/Fixtures/pretokenizer.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        XCTAssertEqual(json["pattern"] as? String, QwenPreTokenizer.pattern)
        let cases = json["cases"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        for c in cases {
            let input = c["input"] as! String
            XCTAssertEqual(pieces(input), c["pieces"] as! [String], "\(input.debugDescription)")
        }
    }

    func testChatTemplates() {
        XCTAssertEqual(ChatTemplate.zImage("a cat"), "<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.flux2Klein("a cat"), "<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
    }
}
