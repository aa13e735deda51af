import TensorKit

/// Z-Image's `FinalLayer`: `Linear(LayerNorm(x) · (1 + Linear(SiLU(adaln))))`, LayerNorm without
/// affine (eps 1e-6).
struct ZImageFinalLayer: Sendable {
    let linear: Linear, adaLN: Linear

    init(_ s: WeightScope, config c: ZImageTransformerConfig, outChannels: Int) throws(ModelError) {
        linear = try Linear(s, "linear", in: c.dim, out: outChannels, bias: true)
        adaLN = try Linear(s, "adaLN_modulation.1", in: c.adalnDim, out: c.dim, bias: true)
    }

    /// `x` `[S, dim]`, `adaln` `[adalnDim]` -> `[S, outChannels]`.
    func callAsFunction(_ x: Tensor, adaln: Tensor, _ ctx: ComputeContext) -> Tensor {
        let scale = ctx.add(Tensor(shape: [], floats: [1]), adaLN(ctx.silu(adaln.reshaped([1, adaln.count])), ctx))
        return linear(ctx.mul(ctx.layerNorm(x, eps: 1e-6), scale), ctx)
    }
}
