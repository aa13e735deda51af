import TensorKit

/// Z-Image's `TimestepEmbedder`: 256-channel sinusoid -> `Linear(256, 1024)` -> SiLU ->
/// `Linear(1024, min(dim, 256))` (no activation after it).
struct ZImageTimestepEmbedder: Sendable {
    static let frequencyChannels = 256
    static let midSize = 1024
    let linear1: Linear, linear2: Linear

    init(_ s: WeightScope, config c: ZImageTransformerConfig) throws(ModelError) {
        linear1 = try Linear(s, "mlp.0", in: Self.frequencyChannels, out: Self.midSize, bias: true)
        linear2 = try Linear(s, "mlp.2", in: Self.midSize, out: c.adalnDim, bias: true)
    }

    /// `t` (already multiplied by `t_scale`) -> `[adalnDim]`.
    func callAsFunction(_ t: Float, _ ctx: ComputeContext) -> Tensor {
        let freq = TimestepSinusoid.embed([t], channels: Self.frequencyChannels)
        let e = linear2(ctx.silu(linear1(freq, ctx)), ctx)
        return e.reshaped([e.count])
    }
}
