import TensorKit

/// The VAE mid-block self-attention (diffusers `Attention` with one head of all channels,
/// group norm, biases, residual): `x + to_out(softmax(q kᵀ / sqrt(C)) v)` over the H·W tokens.
struct VAEAttentionBlock: Sendable {
    let groupNorm: GroupNorm
    let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear

    init(_ s: WeightScope, channels c: Int, groups: Int) throws(ModelError) {
        groupNorm = try GroupNorm(s, "group_norm", channels: c, groups: groups, eps: 1e-6)
        toQ = try Linear(s, "to_q", in: c, out: c, bias: true)
        toK = try Linear(s, "to_k", in: c, out: c, bias: true)
        toV = try Linear(s, "to_v", in: c, out: c, bias: true)
        toOut = try Linear(s, "to_out.0", in: c, out: c, bias: true)
    }

    /// `[N, C, H, W]` -> same shape.
    func callAsFunction(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = groupNorm(x, ctx).reshaped([n, c, h * w]).permuted([0, 2, 1])  // [N, HW, C]
        let q = toQ(tokens, ctx).reshaped([n, h * w, 1, c])
        let k = toK(tokens, ctx).reshaped([n, h * w, 1, c])
        let v = toV(tokens, ctx).reshaped([n, h * w, 1, c])
        let a = ctx.scaledDotProductAttention(query: q, key: k, value: v).reshaped([n, h * w, c])
        let o = toOut(a, ctx).permuted([0, 2, 1]).reshaped([n, c, h, w])
        return ctx.add(o, x)
    }
}
