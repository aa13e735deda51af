import TensorKit

/// Latents to pixels as `ZImagePipeline` does it: `z = latents / scaling_factor + shift_factor`,
/// `vae.decode(z)`, then `clamp(x/2 + 0.5, 0, 1) · 255` rounded half to even.
public struct ZImageImageDecoder: Sendable {
    /// The VAE (FLUX.1 configuration).
    public let vae: AutoencoderKL

    /// A decoder over a loaded VAE.
    public init(vae: AutoencoderKL) { self.vae = vae }

    /// `[1, 16, h, w]` latents -> `[1, 3, 8h, 8w]` decoded image in about [-1, 1].
    /// `tileSize` (pixels) decodes in tiles as diffusers' `enable_tiling()` does; nil in one piece.
    public func decode(_ latents: Tensor, tileSize: Int? = nil, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let scaling = Float(vae.config.scalingFactor ?? 1), shift = Float(vae.config.shiftFactor ?? 0)
        // Two roundings as PyTorch: a division, then an addition.
        let z = ctx.add(ctx.div(latents, Tensor(shape: [], floats: [scaling])), Tensor(shape: [], floats: [shift]))
        return try vae.decode(z, tileSize: tileSize, context: ctx)
    }
}
