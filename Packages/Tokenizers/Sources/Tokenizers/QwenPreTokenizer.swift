/// The Qwen2/Qwen3 pre-tokenizer split, the regex
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// evaluated by hand over Unicode scalars with the regex engine's semantics (leftmost
/// alternative wins, greedy quantifiers with backtracking), splitting "isolated": every match is
/// a piece and so is any unmatched text between matches.
public enum QwenPreTokenizer {
    /// The regex this type implements (a `tokenizer.json` with another split is refused).
    public static let pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    @inline(__always) static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `\s`: the Unicode White_Space property.
    @inline(__always) static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
    @inline(__always) static func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }

    /// Case-insensitive match of an ASCII letter (with the simple case folding the regex engine
    /// applies: `ſ` folds to `s`).
    @inline(__always) static func foldEquals(_ c: Unicode.Scalar, _ ascii: Character) -> Bool {
        let v = c.value
        let a = ascii.unicodeScalars.first!.value
        if v == a || v == a - 32 { return true }
        return ascii == "s" && v == 0x17F
    }

    /// The length of the match at `i`, or 0 when no alternative matches there.
    static func match(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let n = s.count
        let c = s[i]
        // 1. contractions
        if c == "'", i + 1 < n {
            let c1 = s[i + 1]
            if foldEquals(c1, "s") || foldEquals(c1, "t") { return 2 }
            if i + 2 < n {
                let c2 = s[i + 2]
                if foldEquals(c1, "r") && foldEquals(c2, "e") { return 3 }
                if foldEquals(c1, "v") && foldEquals(c2, "e") { return 3 }
            }
            if foldEquals(c1, "m") { return 2 }
            if i + 2 < n, foldEquals(c1, "l") && foldEquals(s[i + 2], "l") { return 3 }
            if foldEquals(c1, "d") { return 2 }
        }
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        var start = -1
        if isLetter(c) {
            start = i
        } else if !isNewline(c) && !isNumber(c) && i + 1 < n && isLetter(s[i + 1]) {
            start = i + 1
        }
        if start >= 0 {
            var j = start
            while j < n && isLetter(s[j]) { j += 1 }
            return j - i
        }
        // 3. \p{N}
        if isNumber(c) { return 1 }
        // 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let k = c == " " ? i + 1 : i
        if k < n, !isSpace(s[k]) && !isLetter(s[k]) && !isNumber(s[k]) {
            var j = k
            while j < n && !isSpace(s[j]) && !isLetter(s[j]) && !isNumber(s[j]) { j += 1 }
            while j < n && isNewline(s[j]) { j += 1 }
            return j - i
        }
        guard isSpace(c) else { return 0 }
        var end = i
        while end < n && isSpace(s[end]) { end += 1 }
        // 5. \s*[\r\n]+ : up to the end of the last newline run inside the whitespace run
        var last = end - 1
        while last >= i && !isNewline(s[last]) { last -= 1 }
        if last >= i { return last + 1 - i }
        // 6. \s+(?!\S)
        if end == n { return end - i }
        if end - i >= 2 { return end - 1 - i }
        // 7. \s+
        return end - i
    }

    /// Splits `scalars` into pieces (ranges), each a regex match or an unmatched stretch.
    public static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var i = 0, gapStart = -1
        while i < scalars.count {
            let m = match(scalars, at: i)
            if m == 0 {
                if gapStart < 0 { gapStart = i }
                i += 1
                continue
            }
            if gapStart >= 0 { pieces.append(gapStart..<i); gapStart = -1 }
            pieces.append(i..<(i + m))
            i += m
        }
        if gapStart >= 0 { pieces.append(gapStart..<scalars.count) }
        return pieces
    }
}
