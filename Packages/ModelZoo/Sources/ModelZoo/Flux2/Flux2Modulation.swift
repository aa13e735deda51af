import TensorKit

/// `Flux2Modulation` / `AdaLayerNormContinuous`'s projection: `Linear(SiLU(temb))` without bias,
/// chunked into `count` vectors `[1, dim]` (shift, scale, gate per set; scale, shift for the output norm).
struct Flux2Modulation: Sendable {
    let linear: Linear
    let count: Int

    init(_ s: WeightScope, _ name: String, dim: Int, count: Int) throws(ModelError) {
        linear = try Linear(s, name, in: dim, out: dim * count, bias: false)
        self.count = count
    }

    /// `temb` `[1, dim]` -> `count` tensors `[1, dim]`.
    func callAsFunction(_ temb: Tensor, _ ctx: ComputeContext) -> [Tensor] {
        linear(ctx.silu(temb), ctx).chunked(count, axis: 1)
    }
}

/// One (shift, scale, gate) set applied around a LayerNorm without affine.
struct Flux2ModulationSet {
    let shift: Tensor, scale: Tensor, gate: Tensor

    /// The set at `offset` of `mods` (3 consecutive vectors).
    init(_ mods: [Tensor], offset: Int) {
        shift = mods[offset]
        scale = mods[offset + 1]
        gate = mods[offset + 2]
    }

    /// `(1 + scale) · LayerNorm(x) + shift`.
    func modulate(_ x: Tensor, eps: Float, _ ctx: ComputeContext) -> Tensor {
        let one = Tensor(shape: [], floats: [1])
        return ctx.add(ctx.mul(ctx.add(one, scale), ctx.layerNorm(x, eps: eps)), shift)
    }

    /// `x + gate · y`.
    func gated(_ x: Tensor, _ y: Tensor, _ ctx: ComputeContext) -> Tensor {
        ctx.add(x, ctx.mul(gate, y))
    }
}

/// `Flux2FeedForward`: `linear_out(silu(a) · b)` with `[a | b] = linear_in(x)`, no biases.
struct Flux2FeedForward: Sendable {
    let linearIn: Linear, linearOut: Linear

    init(_ s: WeightScope, dim: Int, hidden: Int) throws(ModelError) {
        linearIn = try Linear(s, "linear_in", in: dim, out: 2 * hidden, bias: false)
        linearOut = try Linear(s, "linear_out", in: hidden, out: dim, bias: false)
    }

    /// `linear_out(Flux2SwiGLU(linear_in(x)))`, SwiGLU being `silu(x1) · x2` with `x1, x2 =
    /// x.chunk(2, -1)`: linear_in is computed as its two row blocks (no copy of the halves).
    func callAsFunction(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        let hidden = linearIn.outFeatures / 2
        let ab = linearIn.split(x, sizes: [hidden, hidden], ctx)
        return linearOut(ctx.siluMul(ab[0], ab[1]), ctx)
    }
}
