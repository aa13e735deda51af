/// Tile sizes of the attention kernel: `query` rows of Q against `key` rows of K/V at a time.
public struct AttentionTiles: Sendable, Equatable {
    /// Query rows per tile.
    public var query: Int
    /// Key rows per tile.
    public var key: Int

    /// Tiles of the given sizes (both >= 1).
    public init(query: Int, key: Int) {
        precondition(query >= 1 && key >= 1, "attention tiles must be at least 1x1")
        self.query = query
        self.key = key
    }

    /// 512 x 1024: the fastest measured on the 2-core machines (4096 tokens, 8 heads of 128:
    /// 63 GFLOP/s against 25 with 128 x 256 tiles); the workspace stays a few MiB per worker.
    public static let `default` = AttentionTiles(query: 512, key: 1024)
}
