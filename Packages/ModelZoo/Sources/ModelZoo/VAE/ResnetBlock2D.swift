import TensorKit

/// diffusers' `ResnetBlock2D` as the VAEs use it (no time embedding, output scale 1):
/// `h = conv2(silu(norm2(conv1(silu(norm1(x)))))); out = shortcut(x) + h`.
struct ResnetBlock2D: Sendable {
    let norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, conv2: Conv2d
    /// 1x1 conv when the channel count changes.
    let shortcut: Conv2d?

    init(_ s: WeightScope, in inC: Int, out outC: Int, groups: Int) throws(ModelError) {
        norm1 = try GroupNorm(s, "norm1", channels: inC, groups: groups, eps: 1e-6)
        conv1 = try Conv2d(s, "conv1", in: inC, out: outC, kernel: 3, padding: .symmetric(1))
        norm2 = try GroupNorm(s, "norm2", channels: outC, groups: groups, eps: 1e-6)
        conv2 = try Conv2d(s, "conv2", in: outC, out: outC, kernel: 3, padding: .symmetric(1))
        shortcut = inC != outC ? try Conv2d(s, "conv_shortcut", in: inC, out: outC, kernel: 1, padding: .symmetric(0)) : nil
    }

    /// `[N, in, H, W]` -> `[N, out, H, W]`.
    func callAsFunction(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        var h = conv1(norm1(x, ctx, silu: true), ctx)
        h = conv2(norm2(h, ctx, silu: true), ctx)
        return ctx.add(shortcut.map { $0(x, ctx) } ?? x, h)
    }
}
