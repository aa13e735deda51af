import TensorKit

/// One Qwen3 decoder layer (transformers' `Qwen3DecoderLayer`):
/// `h = x + o_proj(attn(RMSNorm(x)))`, `out = h + down(silu(gate(RMSNorm(h))) · up(RMSNorm(h)))`,
/// attention with per-head RMSNorm on q and k before rotate-half RoPE, grouped-query heads,
/// causal + key-padding mask.
struct Qwen3DecoderLayer: Sendable {
    let inputNorm: RMSNorm, postAttentionNorm: RMSNorm
    let qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear
    let qNorm: RMSNorm, kNorm: RMSNorm
    let gate: Linear, up: Linear, down: Linear
    let heads: Int, kvHeads: Int, headDim: Int

    init(_ s: WeightScope, config c: Qwen3Config) throws(ModelError) {
        let eps = Float(c.rmsNormEps), h = c.hiddenSize
        inputNorm = try RMSNorm(s, "input_layernorm", dim: h, eps: eps)
        postAttentionNorm = try RMSNorm(s, "post_attention_layernorm", dim: h, eps: eps)
        let a = s.scope("self_attn")
        qProj = try Linear(a, "q_proj", in: h, out: c.numAttentionHeads * c.headDim, bias: false)
        kProj = try Linear(a, "k_proj", in: h, out: c.numKeyValueHeads * c.headDim, bias: false)
        vProj = try Linear(a, "v_proj", in: h, out: c.numKeyValueHeads * c.headDim, bias: false)
        oProj = try Linear(a, "o_proj", in: c.numAttentionHeads * c.headDim, out: h, bias: false)
        qNorm = try RMSNorm(a, "q_norm", dim: c.headDim, eps: eps)
        kNorm = try RMSNorm(a, "k_norm", dim: c.headDim, eps: eps)
        let m = s.scope("mlp")
        gate = try Linear(m, "gate_proj", in: h, out: c.intermediateSize, bias: false)
        up = try Linear(m, "up_proj", in: h, out: c.intermediateSize, bias: false)
        down = try Linear(m, "down_proj", in: c.intermediateSize, out: h, bias: false)
        heads = c.numAttentionHeads
        kvHeads = c.numKeyValueHeads
        headDim = c.headDim
    }

    /// `x` `[S, hidden]` -> `[S, hidden]`; `keyMask` `[1, S]` (1 = real token).
    func callAsFunction(_ x: Tensor, rope: RopeTable, keyMask: Tensor, _ ctx: ComputeContext) -> Tensor {
        let s = x.shape[0]
        let n = inputNorm(x, ctx)
        var q = qNorm(qProj(n, ctx).reshaped([1, s, heads, headDim]), ctx)
        var k = kNorm(kProj(n, ctx).reshaped([1, s, kvHeads, headDim]), ctx)
        let v = vProj(n, ctx).reshaped([1, s, kvHeads, headDim])
        q = ctx.applyRope(q, table: rope, layout: .rotateHalf)
        k = ctx.applyRope(k, table: rope, layout: .rotateHalf)
        let a = ctx.scaledDotProductAttention(query: q, key: k, value: v, causal: true, keyMask: keyMask)
        let h = ctx.add(x, oProj(a.reshaped([s, heads * headDim]), ctx))
        let m = postAttentionNorm(h, ctx)
        return ctx.add(h, down(ctx.siluMul(gate(m, ctx), up(m, ctx)), ctx))
    }
}
