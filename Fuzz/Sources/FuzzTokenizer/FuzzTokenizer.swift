import Foundation
import FuzzSupport
import Tokenizers

/// The first byte chooses: even, arbitrary bytes as text (lossy UTF-8) through the tiny Qwen
/// tokenizer — encode, chat template, padding to a maximum length, and decode (the round trip
/// must give the text back for valid UTF-8 without special tokens); odd, the rest as a
/// `tokenizer.json` to load.
@main
struct Main {
    static func main() { FuzzSupport.run(fuzzTokenizer) }
}

func fuzzTokenizer(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input else { return 0 }
    guard size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    if data[0] % 2 == 0 {
        guard let tokenizer = Loaded.tokenizer else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        let ids = tokenizer.encode(text)
        _ = try? tokenizer.encode(ChatTemplate.zImage(text), maxLength: 64)
        if !text.contains("<|"), String(validating: Array(bytes), as: UTF8.self) != nil {
            let back = tokenizer.decode(ids)
            precondition(back == text, "round trip: \(text.debugDescription) -> \(ids) -> \(back.debugDescription)")
        }
    } else {
        let dir = FuzzSupport.folder + "/tok"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/tokenizer.json", contents: Data(bytes))
        if let t = try? Tokenizer(folder: dir) { _ = t.encode("a red fox, 2026!") }
    }
    return 0
}

enum Loaded {
    static let tokenizer: Tokenizer? = FuzzSupport.referenceExports.flatMap { try? Tokenizer(folder: $0 + "/zimage/checkpoints/base/tokenizer") }
}
