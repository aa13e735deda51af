import TensorKit

/// `ZImageTransformerBlock`: sandwich RMSNorms around attention and a SwiGLU feed-forward; the
/// modulated form scales the normed inputs by `1 + scale` and gates the outputs by `tanh(gate)`
/// from its own `Linear(adaln -> 4·dim)` (no SiLU before it, no shift).
struct ZImageTransformerBlock: Sendable {
    let attention: ZImageAttention
    let w1: Linear, w2: Linear, w3: Linear
    let attentionNorm1: RMSNorm, attentionNorm2: RMSNorm, ffnNorm1: RMSNorm, ffnNorm2: RMSNorm
    /// nil for the unmodulated (context refiner) blocks.
    let adaLN: Linear?
    let dim: Int

    init(_ s: WeightScope, config c: ZImageTransformerConfig, modulated: Bool) throws(ModelError) {
        attention = try ZImageAttention(s.scope("attention"), config: c)
        w1 = try Linear(s, "feed_forward.w1", in: c.dim, out: c.ffnHidden, bias: false)
        w2 = try Linear(s, "feed_forward.w2", in: c.ffnHidden, out: c.dim, bias: false)
        w3 = try Linear(s, "feed_forward.w3", in: c.dim, out: c.ffnHidden, bias: false)
        let eps = Float(c.normEps)
        attentionNorm1 = try RMSNorm(s, "attention_norm1", dim: c.dim, eps: eps)
        attentionNorm2 = try RMSNorm(s, "attention_norm2", dim: c.dim, eps: eps)
        ffnNorm1 = try RMSNorm(s, "ffn_norm1", dim: c.dim, eps: eps)
        ffnNorm2 = try RMSNorm(s, "ffn_norm2", dim: c.dim, eps: eps)
        adaLN = modulated ? try Linear(s, "adaLN_modulation.0", in: c.adalnDim, out: 4 * c.dim, bias: true) : nil
        dim = c.dim
    }

    func feedForward(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        w2(ctx.siluMul(w1(x, ctx), w3(x, ctx)), ctx)
    }

    /// `x` `[S, dim]`; `adaln` `[adalnDim]` for modulated blocks.
    func callAsFunction(_ x: Tensor, rope: RopeTable, adaln: Tensor?, _ ctx: ComputeContext) -> Tensor {
        guard let adaLN, let adaln else {
            let a = attention(attentionNorm1(x, ctx), rope: rope, ctx)
            let h = ctx.add(x, attentionNorm2(a, ctx))
            return ctx.add(h, ffnNorm2(feedForward(ffnNorm1(h, ctx), ctx), ctx))
        }
        // scale_msa, gate_msa, scale_mlp, gate_mlp = chunk(4); gates tanh'd, scales 1 + scale.
        let mod = adaLN(adaln.reshaped([1, adaln.count]), ctx).chunked(4, axis: 1)
        let one = Tensor(shape: [], floats: [1])
        let scaleMSA = ctx.add(one, mod[0]), gateMSA = ctx.tanh(mod[1])
        let scaleMLP = ctx.add(one, mod[2]), gateMLP = ctx.tanh(mod[3])
        let a = attention(ctx.mul(attentionNorm1(x, ctx), scaleMSA), rope: rope, ctx)
        let h = ctx.add(x, ctx.mul(gateMSA, attentionNorm2(a, ctx)))
        let f = feedForward(ctx.mul(ffnNorm1(h, ctx), scaleMLP), ctx)
        return ctx.add(h, ctx.mul(gateMLP, ffnNorm2(f, ctx)))
    }
}
