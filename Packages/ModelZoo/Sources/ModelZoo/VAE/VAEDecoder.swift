import TensorKit

/// diffusers' VAE `Decoder`: conv_in, mid block, up blocks over the reversed channels (each
/// `layers_per_block + 1` resnets, then nearest 2x upsampling + conv except the last level),
/// norm, SiLU, conv_out.
struct VAEDecoder: Sendable {
    let convIn: Conv2d
    let mid: VAEMidBlock
    let upBlocks: [(resnets: [ResnetBlock2D], upsample: Conv2d?)]
    let normOut: GroupNorm
    let convOut: Conv2d

    init(_ s: WeightScope, config c: VAEConfig) throws(ModelError) {
        let rev = Array(c.blockOutChannels.reversed()), g = c.normNumGroups
        convIn = try Conv2d(s, "conv_in", in: c.latentChannels, out: rev[0], kernel: 3, padding: .symmetric(1))
        mid = try VAEMidBlock(s.scope("mid_block"), channels: rev[0], groups: g, attention: c.midBlockAddAttention)
        var blocks: [(resnets: [ResnetBlock2D], upsample: Conv2d?)] = []
        var prev = rev[0]
        for (i, outC) in rev.enumerated() {
            let b = s.scope("up_blocks.\(i)")
            var resnets: [ResnetBlock2D] = []
            for j in 0...c.layersPerBlock {
                resnets.append(try ResnetBlock2D(b.scope("resnets.\(j)"), in: j == 0 ? prev : outC, out: outC, groups: g))
            }
            let up = i < rev.count - 1
                ? try Conv2d(b, "upsamplers.0.conv", in: outC, out: outC, kernel: 3, padding: .symmetric(1))
                : nil
            blocks.append((resnets, up))
            prev = outC
        }
        upBlocks = blocks
        normOut = try GroupNorm(s, "conv_norm_out", channels: rev.last!, groups: g, eps: 1e-6)
        convOut = try Conv2d(s, "conv_out", in: rev.last!, out: c.outChannels, kernel: 3, padding: .symmetric(1))
    }

    /// `[N, latent, h, w]` -> `[N, 3, 8h, 8w]`.
    func callAsFunction(_ z: Tensor, _ ctx: ComputeContext) -> Tensor {
        var h = mid(convIn(z, ctx), ctx)
        for block in upBlocks {
            for r in block.resnets { h = r(h, ctx) }
            if let u = block.upsample { h = u.upsampled(h, ctx) }
        }
        return convOut(normOut(h, ctx, silu: true), ctx)
    }
}
