/// A byte-level BPE model: the vocabulary keyed by raw bytes and the merge ranks keyed by id
/// pairs, so encoding never compares Swift strings (whose equality is canonical equivalence).
public struct BPEModel: Sendable {
    /// `idToBytes[id]`: the raw bytes of token `id` (empty for ids only added tokens use).
    public let idToBytes: [[UInt8]]
    /// Raw bytes -> id.
    let bytesToId: [[UInt8]: Int]
    /// The id of each single byte.
    let byteIds: [Int]
    /// `(left << 32 | right)` -> (rank, merged id).
    let merges: [UInt64: (rank: Int, id: Int)]
    /// `ignore_merges`: a word found whole in the vocabulary is one token.
    let ignoreMerges: Bool

    /// Builds the model from a `tokenizer.json` vocabulary (byte-level strings -> ids) and merges
    /// (pairs of byte-level strings, in rank order).
    public init(vocab: [String: Int], merges mergeList: [(String, String)], ignoreMerges: Bool) throws(TokenizerError) {
        guard let maxId = vocab.values.max(), maxId < 10_000_000, vocab.values.allSatisfy({ $0 >= 0 }) else {
            throw .invalidTokenizer("tokenizer vocabulary is empty or has invalid ids")
        }
        var idToBytes = [[UInt8]](repeating: [], count: maxId + 1)
        var bytesToId: [[UInt8]: Int] = [:]
        bytesToId.reserveCapacity(vocab.count)
        for (token, id) in vocab {
            guard let b = ByteLevel.bytes(of: token) else {
                throw .invalidTokenizer("vocabulary token \"\(token)\" is not byte-level encoded")
            }
            idToBytes[id] = b
            bytesToId[b] = id
        }
        var byteIds = [Int](repeating: 0, count: 256)
        for b in 0..<256 {
            guard let id = bytesToId[[UInt8(b)]] else { throw .invalidTokenizer("vocabulary lacks the token of byte \(b)") }
            byteIds[b] = id
        }
        var merges: [UInt64: (rank: Int, id: Int)] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, (a, b)) in mergeList.enumerated() {
            guard let ba = ByteLevel.bytes(of: a), let bb = ByteLevel.bytes(of: b),
                  let ia = bytesToId[ba], let ib = bytesToId[bb], let merged = bytesToId[ba + bb] else {
                throw .invalidTokenizer("merge \(rank) (\"\(a)\" \"\(b)\") uses tokens missing from the vocabulary")
            }
            let key = UInt64(ia) << 32 | UInt64(ib)
            if merges[key] == nil { merges[key] = (rank, merged) }
        }
        self.idToBytes = idToBytes
        self.bytesToId = bytesToId
        self.byteIds = byteIds
        self.merges = merges
        self.ignoreMerges = ignoreMerges
    }

    /// The ids of one pre-tokenized word (its UTF-8 bytes): lowest-rank merges first, leftmost
    /// first among equal ranks.
    public func encode(word: [UInt8]) -> [Int] {
        if ignoreMerges, let id = bytesToId[word] { return [id] }
        var symbols = word.map { byteIds[Int($0)] }
        while symbols.count > 1 {
            var bestRank = Int.max, bestPos = -1, bestId = 0
            for p in 0..<(symbols.count - 1) {
                if let m = merges[UInt64(symbols[p]) << 32 | UInt64(symbols[p + 1])], m.rank < bestRank {
                    bestRank = m.rank; bestPos = p; bestId = m.id
                }
            }
            if bestPos < 0 { break }
            // Merge every non-overlapping occurrence of this pair, left to right.
            let (a, b) = (symbols[bestPos], symbols[bestPos + 1])
            var out: [Int] = []
            out.reserveCapacity(symbols.count)
            var p = 0
            while p < symbols.count {
                if p < bestPos { out.append(symbols[p]); p += 1; continue }
                if p + 1 < symbols.count && symbols[p] == a && symbols[p + 1] == b {
                    out.append(bestId)
                    p += 2
                } else {
                    out.append(symbols[p])
                    p += 1
                }
            }
            symbols = out
        }
        return symbols
    }
}
