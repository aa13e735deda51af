import TensorKit

/// `Flux2TransformerBlock` (double stream): separate weights for the image and text streams,
/// joint attention over `[text, image]` with per-head RMSNorm on queries and keys and RoPE,
/// gated residuals, a SwiGLU feed-forward per stream; the modulation sets come from the model's
/// shared `double_stream_modulation_{img,txt}`.
struct Flux2TransformerBlock: Sendable {
    let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear
    let addQ: Linear, addK: Linear, addV: Linear, toAddOut: Linear
    let normQ: RMSNorm, normK: RMSNorm, normAddedQ: RMSNorm, normAddedK: RMSNorm
    let ff: Flux2FeedForward, ffContext: Flux2FeedForward
    let heads: Int, headDim: Int, eps: Float

    init(_ s: WeightScope, config c: Flux2TransformerConfig) throws(ModelError) {
        let a = s.scope("attn"), d = c.innerDim, e = Float(c.eps)
        toQ = try Linear(a, "to_q", in: d, out: d, bias: false)
        toK = try Linear(a, "to_k", in: d, out: d, bias: false)
        toV = try Linear(a, "to_v", in: d, out: d, bias: false)
        toOut = try Linear(a, "to_out.0", in: d, out: d, bias: false)
        addQ = try Linear(a, "add_q_proj", in: d, out: d, bias: false)
        addK = try Linear(a, "add_k_proj", in: d, out: d, bias: false)
        addV = try Linear(a, "add_v_proj", in: d, out: d, bias: false)
        toAddOut = try Linear(a, "to_add_out", in: d, out: d, bias: false)
        normQ = try RMSNorm(a, "norm_q", dim: c.attentionHeadDim, eps: e)
        normK = try RMSNorm(a, "norm_k", dim: c.attentionHeadDim, eps: e)
        normAddedQ = try RMSNorm(a, "norm_added_q", dim: c.attentionHeadDim, eps: e)
        normAddedK = try RMSNorm(a, "norm_added_k", dim: c.attentionHeadDim, eps: e)
        ff = try Flux2FeedForward(s.scope("ff"), dim: d, hidden: c.mlpHidden)
        ffContext = try Flux2FeedForward(s.scope("ff_context"), dim: d, hidden: c.mlpHidden)
        heads = c.numAttentionHeads
        headDim = c.attentionHeadDim
        eps = e
    }

    /// `img` `[Si, inner]`, `txt` `[St, inner]`; `modImg`/`modTxt`: 6 vectors each (attention set,
    /// then feed-forward set); `rope` for `[text, image]`. Returns the new `(txt, img)`.
    func callAsFunction(img: Tensor, txt: Tensor, modImg: [Tensor], modTxt: [Tensor], rope: RopeTable,
                        _ ctx: ComputeContext) -> (txt: Tensor, img: Tensor) {
        let (si, st) = (img.shape[0], txt.shape[0])
        let imgMSA = Flux2ModulationSet(modImg, offset: 0), imgMLP = Flux2ModulationSet(modImg, offset: 3)
        let txtMSA = Flux2ModulationSet(modTxt, offset: 0), txtMLP = Flux2ModulationSet(modTxt, offset: 3)
        let x = imgMSA.modulate(img, eps: eps, ctx), c = txtMSA.modulate(txt, eps: eps, ctx)
        func heads(_ t: Tensor, _ n: Int) -> Tensor { t.reshaped([1, n, self.heads, headDim]) }
        let q = Tensor.concat([normAddedQ(heads(addQ(c, ctx), st), ctx), normQ(heads(toQ(x, ctx), si), ctx)], axis: 1, context: ctx)
        let k = Tensor.concat([normAddedK(heads(addK(c, ctx), st), ctx), normK(heads(toK(x, ctx), si), ctx)], axis: 1, context: ctx)
        let v = Tensor.concat([heads(addV(c, ctx), st), heads(toV(x, ctx), si)], axis: 1, context: ctx)
        let o = ctx.scaledDotProductAttention(query: ctx.applyRope(q, table: rope, layout: .interleaved),
                                              key: ctx.applyRope(k, table: rope, layout: .interleaved), value: v)
            .reshaped([st + si, self.heads * headDim]).split(sizes: [st, si], axis: 0, context: ctx)
        var img = imgMSA.gated(img, toOut(o[1], ctx), ctx)
        img = imgMLP.gated(img, ff(imgMLP.modulate(img, eps: eps, ctx), ctx), ctx)
        var txt = txtMSA.gated(txt, toAddOut(o[0], ctx), ctx)
        txt = txtMLP.gated(txt, ffContext(txtMLP.modulate(txt, eps: eps, ctx), ctx), ctx)
        return (txt, img)
    }
}

/// `Flux2SingleTransformerBlock` (parallel): one fused projection to q, k, v and the
/// feed-forward input, attention and SwiGLU side by side, one fused output projection.
struct Flux2SingleTransformerBlock: Sendable {
    let toQKVMLP: Linear, toOut: Linear
    let normQ: RMSNorm, normK: RMSNorm
    let inner: Int, mlpHidden: Int, heads: Int, headDim: Int, eps: Float

    init(_ s: WeightScope, config c: Flux2TransformerConfig) throws(ModelError) {
        let a = s.scope("attn"), e = Float(c.eps)
        inner = c.innerDim
        mlpHidden = c.mlpHidden
        toQKVMLP = try Linear(a, "to_qkv_mlp_proj", in: inner, out: 3 * inner + 2 * mlpHidden, bias: false)
        toOut = try Linear(a, "to_out", in: inner + mlpHidden, out: inner, bias: false)
        normQ = try RMSNorm(a, "norm_q", dim: c.attentionHeadDim, eps: e)
        normK = try RMSNorm(a, "norm_k", dim: c.attentionHeadDim, eps: e)
        heads = c.numAttentionHeads
        headDim = c.attentionHeadDim
        eps = e
    }

    /// `h` `[S, inner]` (text then image tokens), `mod`: shift, scale, gate.
    func callAsFunction(_ h: Tensor, mod: [Tensor], rope: RopeTable, _ ctx: ComputeContext) -> Tensor {
        let s = h.shape[0]
        let set = Flux2ModulationSet(mod, offset: 0)
        // The fused projection computed as its five row blocks (q, k, v, SwiGLU's a and b) and the
        // output projection as the sum over its two column blocks: the same products as
        // diffusers' fused matrices followed by split/chunk/cat, without copying the activations.
        let parts = toQKVMLP.split(set.modulate(h, eps: eps, ctx), sizes: [inner, inner, inner, mlpHidden, mlpHidden], ctx)
        let q = normQ(parts[0].reshaped([1, s, heads, headDim]), ctx)
        let k = normK(parts[1].reshaped([1, s, heads, headDim]), ctx)
        let o = ctx.scaledDotProductAttention(query: ctx.applyRope(q, table: rope, layout: .interleaved),
                                              key: ctx.applyRope(k, table: rope, layout: .interleaved),
                                              value: parts[2].reshaped([1, s, heads, headDim]))
        let y = toOut.concatenated([o.reshaped([s, inner]), ctx.siluMul(parts[3], parts[4])], ctx)
        return set.gated(h, y, ctx)
    }
}
