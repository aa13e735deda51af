/// A token matched on the raw text before normalisation and BPE (`<|im_start|>`, `<think>`, ...).
public struct AddedToken: Sendable, Equatable {
    /// The token text.
    public let content: String
    /// Its id.
    public let id: Int
    /// Whether it is a special token (skipped when decoding with `skipSpecialTokens`).
    public let special: Bool
    /// UTF-8 bytes of `content`.
    let bytes: [UInt8]

    /// A token.
    public init(content: String, id: Int, special: Bool) {
        self.content = content
        self.id = id
        self.special = special
        bytes = Array(content.utf8)
    }

    /// Splits `text` (UTF-8) around added tokens, leftmost-longest first: each segment is either
    /// an added token's id or a run of plain bytes.
    static func split(_ text: [UInt8], tokens: [AddedToken]) -> [Segment] {
        var out: [Segment] = []
        var plainStart = 0, i = 0
        while i < text.count {
            var best: AddedToken?
            for t in tokens where !t.bytes.isEmpty && t.bytes.count <= text.count - i && (best == nil || t.bytes.count > best!.bytes.count) {
                if text[i] == t.bytes[0] && text[i..<(i + t.bytes.count)].elementsEqual(t.bytes) { best = t }
            }
            if let best {
                if plainStart < i { out.append(.plain(Array(text[plainStart..<i]))) }
                out.append(.token(best.id))
                i += best.bytes.count
                plainStart = i
            } else {
                i += 1
            }
        }
        if plainStart < text.count { out.append(.plain(Array(text[plainStart...]))) }
        return out
    }

    enum Segment: Equatable {
        case plain([UInt8])
        case token(Int)
    }
}
