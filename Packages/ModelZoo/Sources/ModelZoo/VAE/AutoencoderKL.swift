import Foundation
import TensorKit

/// A diffusers KL autoencoder (`AutoencoderKL` with the FLUX.1 configuration, or
/// `AutoencoderKLFlux2`): encoder, decoder, optional quant convs, and for FLUX.2 the BatchNorm
/// running statistics of the patchified latents.
public struct AutoencoderKL: Sendable {
    /// The configuration (from `vae/config.json`).
    public let config: VAEConfig
    let encoder: VAEEncoder
    let decoder: VAEDecoder
    let quantConv: Conv2d?
    let postQuantConv: Conv2d?
    /// FLUX.2: `[4 · latent]` BatchNorm running mean and variance of the 2x2-patchified latents.
    public let batchNormMean: Tensor?, batchNormVar: Tensor?

    /// Loads the VAE in `folder` (`config.json` + weights); every tensor must be used.
    /// Pass `config` when it was already read (otherwise `folder/config.json` is read).
    public init(folder: String, variant: VAEVariant, config given: VAEConfig? = nil, quantization: WeightQuantization? = nil) throws(ModelError) {
        let config: VAEConfig
        if let given { config = given } else { config = try VAEConfig.load(path: folder + "/config.json", variant: variant) }
        self = try WeightLoader.build(folder: folder, component: "vae", quantization: quantization, naming: variant.mfluxNaming) { (loader: WeightLoader) throws(ModelError) in
            try Self(config: config, loader: loader)
        }
    }

    /// Builds the VAE from `loader` (the caller calls `loader.finish()`).
    public init(config: VAEConfig, loader: WeightLoader) throws(ModelError) {
        self.config = config
        let root = loader.scope("")
        encoder = try VAEEncoder(root.scope("encoder"), config: config)
        decoder = try VAEDecoder(root.scope("decoder"), config: config)
        let z2 = 2 * config.latentChannels, z = config.latentChannels
        quantConv = config.useQuantConv ? try Conv2d(root, "quant_conv", in: z2, out: z2, kernel: 1, padding: .symmetric(0)) : nil
        postQuantConv = config.usePostQuantConv ? try Conv2d(root, "post_quant_conv", in: z, out: z, kernel: 1, padding: .symmetric(0)) : nil
        if config.variant == .flux2 {
            let c = z * config.patchSize[0] * config.patchSize[1]
            batchNormMean = try root.tensor("bn.running_mean", shape: [c])
            batchNormVar = try root.tensor("bn.running_var", shape: [c])
            if loader.contains("bn.num_batches_tracked") {
                try loader.declareUnused("bn.num_batches_tracked", shape: [])
            }
        } else {
            batchNormMean = nil
            batchNormVar = nil
        }
    }

    /// Decodes raw latents `[N, latent, h, w]` (after any scaling/de-normalisation) to an image
    /// `[N, 3, 8h, 8w]` in about [-1, 1] (`vae.decode(z).sample`).
    public func decode(_ z: Tensor, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        guard z.rank == 4, z.shape[1] == config.latentChannels else {
            throw .invalidInput("VAE decode expects [N, \(config.latentChannels), h, w] latents, got \(z.shape)")
        }
        return decoder(postQuantConv.map { $0(z, ctx) } ?? z, ctx)
    }

    /// Encodes an image `[N, 3, H, W]` in [-1, 1] (H, W multiples of 8) to the posterior mode
    /// (mean) `[N, latent, H/8, W/8]` in raw latent space (`vae.encode(x).latent_dist.mode()`).
    public func encodeMode(_ x: Tensor, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        try encodeMoments(x, context: ctx).mean
    }

    /// The posterior of an image `[N, 3, H, W]` in [-1, 1] (`vae.encode(x).latent_dist`, diffusers'
    /// `DiagonalGaussianDistribution`): `mean` and `logvar` clamped to [-30, 20], each
    /// `[N, latent, H/8, W/8]`.
    public func encodeMoments(_ x: Tensor, context ctx: ComputeContext) throws(ModelError) -> (mean: Tensor, logvar: Tensor) {
        let f = config.scaleFactor
        guard x.rank == 4, x.shape[1] == config.inChannels, x.shape[2] % f == 0, x.shape[3] % f == 0 else {
            throw .invalidInput("VAE encode expects [N, \(config.inChannels), H, W] with H, W multiples of \(f), got \(x.shape)")
        }
        var moments = encoder(x, ctx)
        if let q = quantConv { moments = q(moments, ctx) }
        let parts = moments.split(sizes: [config.latentChannels, config.latentChannels], axis: 1)
        let logvar = Tensor(shape: parts[1].shape, floats: parts[1].floats(context: ctx).map { min(max($0, -30), 20) })
        return (parts[0], logvar)
    }

    /// A sample of the posterior, `mean + exp(0.5·logvar)·ε` with ε drawn from `generator`
    /// (`latent_dist.sample(generator)`: one `randn` of the latent shape).
    public func encodeSample(_ x: Tensor, generator: inout TorchGenerator, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let (mean, logvar) = try encodeMoments(x, context: ctx)
        let eps = generator.randn(mean.shape).floats(context: ctx)
        let m = mean.floats(context: ctx), lv = logvar.floats(context: ctx)
        var out = [Float](repeating: 0, count: m.count)
        for i in 0..<m.count { out[i] = m[i] + exp(0.5 * lv[i]) * eps[i] }
        return Tensor(shape: mean.shape, floats: out)
    }
}
