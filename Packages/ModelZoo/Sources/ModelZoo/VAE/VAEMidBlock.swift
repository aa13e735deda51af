import TensorKit

/// diffusers' `UNetMidBlock2D` in the VAEs: resnet, (attention), resnet.
struct VAEMidBlock: Sendable {
    let resnet0: ResnetBlock2D, attention: VAEAttentionBlock?, resnet1: ResnetBlock2D

    init(_ s: WeightScope, channels c: Int, groups: Int, attention hasAttention: Bool) throws(ModelError) {
        resnet0 = try ResnetBlock2D(s.scope("resnets.0"), in: c, out: c, groups: groups)
        attention = hasAttention ? try VAEAttentionBlock(s.scope("attentions.0"), channels: c, groups: groups) : nil
        resnet1 = try ResnetBlock2D(s.scope("resnets.1"), in: c, out: c, groups: groups)
    }

    func callAsFunction(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        var h = resnet0(x, ctx)
        if let attention { h = attention(h, ctx) }
        return resnet1(h, ctx)
    }
}
