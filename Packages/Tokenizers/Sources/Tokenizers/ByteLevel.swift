/// GPT-2's reversible byte <-> printable-character map used by byte-level BPE vocabularies:
/// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards.
public enum ByteLevel {
    /// `encoder[b]`: the character of byte b.
    public static let encoder: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var map = [Unicode.Scalar](repeating: " ", count: 256)
        for b in printable { map[b] = Unicode.Scalar(UInt32(b))! }
        var n = 0
        for b in 0..<256 where !printable.contains(b) {
            map[b] = Unicode.Scalar(UInt32(256 + n))!
            printable.append(b)
            n += 1
        }
        return map
    }()

    /// The byte of each byte-level character (nil for characters outside the alphabet).
    public static let decoder: [UInt32: UInt8] = {
        var d: [UInt32: UInt8] = [:]
        for (b, c) in encoder.enumerated() { d[c.value] = UInt8(b) }
        return d
    }()

    /// The raw bytes of a byte-level token string, or nil when it has a character outside the
    /// alphabet.
    public static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = decoder[s.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
