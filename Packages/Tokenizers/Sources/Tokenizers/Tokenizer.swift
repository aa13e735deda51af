import Foundation

/// The Qwen2/Qwen3 tokenizer loaded from Hugging Face files (`tokenizer.json`,
/// `tokenizer_config.json`): added tokens matched on the raw text, NFC normalisation, the Qwen
/// pre-tokenizer split, byte-level BPE. Works on Unicode scalars and bytes, never on Swift
/// `Character`s.
public struct Tokenizer: Sendable {
    /// The BPE model.
    public let model: BPEModel
    /// Added tokens (matched before normalisation).
    public let addedTokens: [AddedToken]
    /// Whether text is NFC-normalised before pre-tokenization.
    public let normalizesNFC: Bool
    /// Ids a post-processor adds around a single sequence (none for Qwen).
    public let prefixIds: [Int], suffixIds: [Int]
    /// The padding token id (`<|endoftext|>` for Qwen), if any.
    public let padTokenId: Int?
    /// The end-of-sequence token text (`<|im_end|>` for Qwen3), if any.
    public let eosToken: String?

    /// Loads `folder/tokenizer.json` (and `folder/tokenizer_config.json` when present).
    public init(folder: String) throws(TokenizerError) {
        guard let data = FileManager.default.contents(atPath: folder + "/tokenizer.json") else {
            throw .io("\(folder)/tokenizer.json: cannot read the tokenizer")
        }
        let config = FileManager.default.contents(atPath: folder + "/tokenizer_config.json")
        try self.init(tokenizerJSON: data, configJSON: config, source: folder)
    }

    /// Builds a tokenizer from the contents of `tokenizer.json` and `tokenizer_config.json`.
    public init(tokenizerJSON: Data, configJSON: Data?, source: String = "tokenizer") throws(TokenizerError) {
        func bad(_ m: String) -> TokenizerError { .invalidTokenizer("\(source): \(m)") }
        guard let root = (try? JSONSerialization.jsonObject(with: tokenizerJSON)) as? [String: Any] else {
            throw bad("tokenizer.json is not a JSON object")
        }
        guard let m = root["model"] as? [String: Any], (m["type"] as? String) == "BPE" else {
            throw bad("only BPE tokenizer models are supported")
        }
        if let d = m["dropout"], !(d is NSNull) { throw bad("BPE dropout is not supported") }
        if (m["byte_fallback"] as? Bool) == true { throw bad("BPE byte_fallback is not supported") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = m[key] as? String, !s.isEmpty { throw bad("BPE \(key) is not supported") }
        }
        guard let vocab = m["vocab"] as? [String: Int] else { throw bad("BPE vocab is missing") }
        var merges: [(String, String)] = []
        if let list = m["merges"] as? [Any] {
            merges.reserveCapacity(list.count)
            for item in list {
                if let s = item as? String {
                    let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw bad("merge \"\(s)\" is not a pair") }
                    merges.append((String(parts[0]), String(parts[1])))
                } else if let pair = item as? [String], pair.count == 2 {
                    merges.append((pair[0], pair[1]))
                } else {
                    throw bad("a merge is neither \"a b\" nor [a, b]")
                }
            }
        }
        model = try BPEModel(vocab: vocab, merges: merges, ignoreMerges: (m["ignore_merges"] as? Bool) ?? false)

        var added: [AddedToken] = []
        for case let t as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            guard let content = t["content"] as? String, let id = t["id"] as? Int else { throw bad("malformed added token") }
            for flag in ["lstrip", "rstrip", "single_word"] where (t[flag] as? Bool) == true {
                throw bad("added token \(content) uses \(flag), which is not supported")
            }
            if (t["normalized"] as? Bool) == true && content.unicodeScalars.contains(where: { !$0.isASCII }) {
                throw bad("normalized non-ASCII added token \(content) is not supported")
            }
            added.append(AddedToken(content: content, id: id, special: (t["special"] as? Bool) ?? false))
        }
        addedTokens = added

        switch root["normalizer"] {
        case nil, is NSNull: normalizesNFC = false
        case let n as [String: Any] where (n["type"] as? String) == "NFC": normalizesNFC = true
        default: throw bad("only an NFC normalizer is supported")
        }
        try Tokenizer.checkPreTokenizer(root["pre_tokenizer"], bad)

        var prefix: [Int] = [], suffix: [Int] = []
        if let pp = root["post_processor"] as? [String: Any] {
            switch pp["type"] as? String {
            case "ByteLevel": break
            case "TemplateProcessing":
                var seenA = false
                for case let piece as [String: Any] in pp["single"] as? [Any] ?? [] {
                    if piece["Sequence"] != nil { seenA = true; continue }
                    guard let sp = piece["SpecialToken"] as? [String: Any], let name = sp["id"] as? String,
                          let tokens = (pp["special_tokens"] as? [String: Any])?[name] as? [String: Any],
                          let ids = tokens["ids"] as? [Int] else { throw bad("unsupported post-processor template") }
                    if seenA { suffix += ids } else { prefix += ids }
                }
            default: throw bad("post-processor \(pp["type"] ?? "?") is not supported")
            }
        }
        prefixIds = prefix
        suffixIds = suffix

        var pad: String?, eos: String?
        if let configJSON, let cfg = (try? JSONSerialization.jsonObject(with: configJSON)) as? [String: Any] {
            func tokenName(_ v: Any?) -> String? {
                if let s = v as? String { return s }
                if let d = v as? [String: Any] { return d["content"] as? String }
                return nil
            }
            pad = tokenName(cfg["pad_token"])
            eos = tokenName(cfg["eos_token"])
        }
        eosToken = eos
        if let pad {
            guard let id = added.first(where: { $0.content == pad })?.id ?? model.bytesToId[ByteLevel.bytes(of: pad) ?? []] else {
                throw bad("pad token \(pad) is not in the vocabulary")
            }
            padTokenId = id
        } else {
            padTokenId = nil
        }
    }

    static func checkPreTokenizer(_ p: Any?, _ bad: (String) -> TokenizerError) throws(TokenizerError) {
        guard let p = p as? [String: Any], (p["type"] as? String) == "Sequence", let steps = p["pretokenizers"] as? [[String: Any]],
              steps.count == 2,
              (steps[0]["type"] as? String) == "Split",
              ((steps[0]["pattern"] as? [String: Any])?["Regex"] as? String) == QwenPreTokenizer.pattern,
              (steps[0]["behavior"] as? String) == "Isolated", (steps[0]["invert"] as? Bool) != true,
              (steps[1]["type"] as? String) == "ByteLevel", (steps[1]["use_regex"] as? Bool) == false,
              (steps[1]["add_prefix_space"] as? Bool) != true else {
            throw bad("only the Qwen2/Qwen3 pre-tokenizer (Split with Qwen's regex, then ByteLevel without regex) is supported")
        }
    }

    /// The ids of `text` (added tokens matched first, then NFC, the Qwen split and byte-level
    /// BPE). `addSpecialTokens` applies the post-processor (nothing for Qwen).
    public func encode(_ text: String, addSpecialTokens: Bool = false) -> [Int] {
        var ids: [Int] = addSpecialTokens ? prefixIds : []
        for segment in AddedToken.split(Array(text.utf8), tokens: addedTokens) {
            switch segment {
            case .token(let id): ids.append(id)
            case .plain(let bytes):
                var s = String(decoding: bytes, as: UTF8.self)
                if normalizesNFC { s = (s as NSString).precomposedStringWithCanonicalMapping }
                let scalars = Array(s.unicodeScalars)
                for piece in QwenPreTokenizer.split(scalars) {
                    var word: [UInt8] = []
                    for sc in scalars[piece] { word.append(contentsOf: sc.utf8) }
                    ids += model.encode(word: word)
                }
            }
        }
        if addSpecialTokens { ids += suffixIds }
        return ids
    }

    /// `tokenizer(text, padding="max_length", max_length=n, truncation=True)`: ids truncated or
    /// right-padded with the pad token to `maxLength`, and the attention mask (1 = real token).
    public func encode(_ text: String, maxLength: Int) throws(TokenizerError) -> (ids: [Int], attentionMask: [Int]) {
        guard let pad = padTokenId else { throw .invalidTokenizer("the tokenizer has no pad token") }
        var ids = encode(text, addSpecialTokens: true)
        if ids.count > maxLength { ids = Array(ids.prefix(maxLength)) }
        let real = ids.count
        ids += Array(repeating: pad, count: maxLength - real)
        return (ids, Array(repeating: 1, count: real) + Array(repeating: 0, count: maxLength - real))
    }

    /// The text of `ids` (byte-level decoded; invalid UTF-8 replaced).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if let t = addedTokens.first(where: { $0.id == id }) {
                if !(skipSpecialTokens && t.special) { bytes += t.bytes }
            } else if id >= 0 && id < model.idToBytes.count {
                bytes += model.idToBytes[id]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
