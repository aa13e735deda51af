import TensorKit

/// Z-Image's self-attention (`ZSingleStreamAttnProcessor`): q, k, v projections without bias,
/// per-head RMSNorm on q and k, interleaved-pair RoPE, SDPA, output projection.
struct ZImageAttention: Sendable {
    let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear
    let normQ: RMSNorm?, normK: RMSNorm?
    let heads: Int, headDim: Int

    init(_ s: WeightScope, config c: ZImageTransformerConfig) throws(ModelError) {
        toQ = try Linear(s, "to_q", in: c.dim, out: c.dim, bias: false)
        toK = try Linear(s, "to_k", in: c.dim, out: c.dim, bias: false)
        toV = try Linear(s, "to_v", in: c.dim, out: c.dim, bias: false)
        toOut = try Linear(s, "to_out.0", in: c.dim, out: c.dim, bias: false)
        // diffusers' Attention builds the q/k norms with eps 1e-5 whatever norm_eps is.
        normQ = c.qkNorm ? try RMSNorm(s, "norm_q", dim: c.headDim, eps: 1e-5) : nil
        normK = c.qkNorm ? try RMSNorm(s, "norm_k", dim: c.headDim, eps: 1e-5) : nil
        heads = c.nHeads
        headDim = c.headDim
    }

    /// `x` `[S, dim]`, `rope` for the S positions -> `[S, dim]`.
    func callAsFunction(_ x: Tensor, rope: RopeTable, _ ctx: ComputeContext) -> Tensor {
        let s = x.shape[0]
        var q = toQ(x, ctx).reshaped([1, s, heads, headDim])
        var k = toK(x, ctx).reshaped([1, s, heads, headDim])
        let v = toV(x, ctx).reshaped([1, s, heads, headDim])
        if let normQ { q = normQ(q, ctx) }
        if let normK { k = normK(k, ctx) }
        q = ctx.applyRope(q, table: rope, layout: .interleaved)
        k = ctx.applyRope(k, table: rope, layout: .interleaved)
        let o = ctx.scaledDotProductAttention(query: q, key: k, value: v)
        return toOut(o.reshaped([s, heads * headDim]), ctx)
    }
}
