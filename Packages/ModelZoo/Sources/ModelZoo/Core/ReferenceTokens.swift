import TensorKit

/// Conditioning tokens made from reference images (FLUX.2-klein editing): VAE-encoded, packed
/// tokens `[n, channels]` appended after the image tokens in every transformer call, with their
/// own position ids (one `[4]` id per token). Computed once per request; constant across steps.
public struct ReferenceTokens: Sendable {
    /// `[n, channels]` float32.
    public let tokens: Tensor
    /// One position id per token.
    public let ids: [[Int]]

    /// Tokens `[n, channels]` with `n` ids.
    public init(tokens: Tensor, ids: [[Int]]) {
        precondition(tokens.rank == 2 && tokens.shape[0] == ids.count, "reference tokens \(tokens.shape) with \(ids.count) ids")
        self.tokens = tokens
        self.ids = ids
    }
}
