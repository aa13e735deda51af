import TensorKit

/// diffusers' VAE `Encoder`: conv_in, down blocks (resnets, then a stride-2 conv after zero
/// padding of one row/column at the bottom/right, except the last level), mid block, norm,
/// SiLU, conv_out to `2 · latent` channels (mean and log-variance).
struct VAEEncoder: Sendable {
    let convIn: Conv2d
    let downBlocks: [(resnets: [ResnetBlock2D], downsample: Conv2d?)]
    let mid: VAEMidBlock
    let normOut: GroupNorm
    let convOut: Conv2d

    init(_ s: WeightScope, config c: VAEConfig) throws(ModelError) {
        let ch = c.blockOutChannels, g = c.normNumGroups
        convIn = try Conv2d(s, "conv_in", in: c.inChannels, out: ch[0], kernel: 3, padding: .symmetric(1))
        var blocks: [(resnets: [ResnetBlock2D], downsample: Conv2d?)] = []
        var inC = ch[0]
        for (i, outC) in ch.enumerated() {
            let b = s.scope("down_blocks.\(i)")
            var resnets: [ResnetBlock2D] = []
            for j in 0..<c.layersPerBlock {
                resnets.append(try ResnetBlock2D(b.scope("resnets.\(j)"), in: j == 0 ? inC : outC, out: outC, groups: g))
            }
            let down = i < ch.count - 1
                ? try Conv2d(b, "downsamplers.0.conv", in: outC, out: outC, kernel: 3, stride: 2,
                             padding: Padding2d(top: 0, bottom: 1, left: 0, right: 1))
                : nil
            blocks.append((resnets, down))
            inC = outC
        }
        downBlocks = blocks
        mid = try VAEMidBlock(s.scope("mid_block"), channels: ch.last!, groups: g, attention: c.midBlockAddAttention)
        normOut = try GroupNorm(s, "conv_norm_out", channels: ch.last!, groups: g, eps: 1e-6)
        convOut = try Conv2d(s, "conv_out", in: ch.last!, out: 2 * c.latentChannels, kernel: 3, padding: .symmetric(1))
    }

    /// `[N, 3, H, W]` -> `[N, 2·latent, H/8, W/8]`.
    func callAsFunction(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        var h = convIn(x, ctx)
        for block in downBlocks {
            for r in block.resnets { h = r(h, ctx) }
            if let d = block.downsample { h = d(h, ctx) }
        }
        h = mid(h, ctx)
        return convOut(normOut(h, ctx, silu: true), ctx)
    }
}
