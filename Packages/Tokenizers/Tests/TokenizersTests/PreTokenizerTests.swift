import Tokenizers
import XCTest

/// Splits of the Qwen pre-tokenizer regex; every expected list is what Hugging Face `tokenizers`
/// gives (`pre_tokenizers.Split(Regex(pattern), "isolated").pre_tokenize_str`).
final class PreTokenizerTests: XCTestCase {
    func pieces(_ s: String) -> [String] {
        let sc = Array(s.unicodeScalars)
        return QwenPreTokenizer.split(sc).map { r in String(String.UnicodeScalarView(sc[r])) }
    }

    func testSplits() {
        XCTAssertEqual(pieces("Hello, world!"), ["Hello", ",", " world", "!"])
        XCTAssertEqual(pieces("I'M here, they're"), ["I", "'M", " here", ",", " they", "'re"])
        XCTAssertEqual(pieces("2026 cats"), ["2", "0", "2", "6", " cats"])
        XCTAssertEqual(pieces("a  b"), ["a", " ", " b"])
        XCTAssertEqual(pieces("a \n\n b"), ["a", " \n\n", " b"])
        XCTAssertEqual(pieces("end   "), ["end", "   "])
        XCTAssertEqual(pieces("x\r\ny"), ["x", "\r\n", "y"])
        XCTAssertEqual(pieces("...!?\n"), ["...!?\n"])
        XCTAssertEqual(pieces(" ...a"), [" ...", "a"])
        XCTAssertEqual(pieces("\tword"), ["\tword"])
        XCTAssertEqual(pieces("猫が好き"), ["猫が好き"])
        XCTAssertEqual(pieces("e\u{301}"), ["e", "\u{301}"])  // a combining mark is neither L nor N
        XCTAssertEqual(pieces("it'ſ"), ["it", "'ſ"])  // case folding: ſ folds to s
    }

    func testChatTemplates() {
        XCTAssertEqual(ChatTemplate.zImage("a cat"), "<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.flux2Klein("a cat"), "<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
    }
}
