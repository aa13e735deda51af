import TensorKit

/// FLUX.2 [klein]'s latent layout as `Flux2KleinPipeline` builds it: noise drawn directly in the
/// 2x2-patchified space `[1, 128, H/16, W/16]`, packed to tokens (row-major; the loop keeps them as
/// a token grid `[1, H/16, W/16, 128]`, diffusers' `[1, H/16·W/16, 128]` with the grid size kept),
/// position ids `(0, h, w, 0)` for image tokens and `(0, 0, 0, k)` for text tokens, and the way back
/// to the VAE: BatchNorm de-normalisation, then unpatchify to `[1, 32, H/8, W/8]`.
public enum Flux2Latents {
    /// The noise shape `[1, 4·latentChannels, H/16, W/16]` (`prepare_latents`).
    public static func noiseShape(height: Int, width: Int, latentChannels: Int = 32, vaeScaleFactor: Int = 8) -> [Int] {
        // prepare_latents: 2·(H // (2f)) latent rows, halved by the 2x2 patch.
        return [1, latentChannels * 4, height / (vaeScaleFactor * 2), width / (vaeScaleFactor * 2)]
    }

    /// `[1, C, h, w]` -> the token grid `[1, h, w, C]` (`_pack_latents`, whose `[1, h·w, C]` is
    /// the same memory).
    public static func pack(_ x: Tensor) -> Tensor {
        x.permuted([0, 2, 3, 1])
    }

    /// The token grid `[1, h, w, C]` -> `[1, C, h, w]` (the inverse of ``pack(_:)``; the pipeline
    /// scatters tokens by their row-major ids, which is the same).
    public static func unpack(_ grid: Tensor) -> Tensor {
        grid.permuted([0, 3, 1, 2])
    }

    /// Image token ids `(0, row, column, 0)`, row-major.
    public static func imageIds(height h: Int, width w: Int) -> [[Int]] {
        (0..<h).flatMap { y in (0..<w).map { x in [0, y, x, 0] } }
    }

    /// Text token ids `(0, 0, 0, k)`.
    public static func textIds(count: Int) -> [[Int]] {
        (0..<count).map { [0, 0, 0, $0] }
    }

    /// `[1, 4C, h, w]` -> `[1, C, 2h, 2w]`: patchified channel `c·4 + ph·2 + pw` to pixel (2y + ph, 2x + pw).
    public static func unpatchify(_ x: Tensor) -> Tensor {
        let (c4, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let c = c4 / 4
        return x.reshaped([c, 2, 2, h, w]).permuted([0, 3, 1, 4, 2]).reshaped([1, c, 2 * h, 2 * w])
    }

    /// The token grid `[1, h, w, 4C]` -> the VAE decoder's input `[1, C, 2h, 2w]`: unpack,
    /// BatchNorm de-normalisation `x · sqrt(var + eps) + mean`, unpatchify.
    public static func vaeInput(_ grid: Tensor, vae: AutoencoderKL, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        guard grid.rank == 4, grid.shape[0] == 1, let mean = vae.batchNormMean, let variance = vae.batchNormVar,
              grid.shape[3] == mean.count else {
            throw .invalidInput("klein latents must be a [1, h, w, \(vae.batchNormMean?.count ?? 0)] token grid for an AutoencoderKLFlux2, got \(grid.shape)")
        }
        let x = ctx.batchNormStatistics(unpack(grid), runningMean: mean, runningVar: variance, eps: Float(vae.config.batchNormEps), inverse: true)
        return unpatchify(x)
    }
}
