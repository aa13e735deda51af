import Schedulers
import TensorKit

/// The denoising loop of `ZImagePipeline`: for each step, the transformer on
/// `(1000 - t) / 1000`, classifier-free guidance when enabled, the sign flip, and the flow-match
/// Euler step. Latents stay float32.
public struct ZImageDenoiser: Sendable {
    /// The transformer.
    public let transformer: ZImageTransformer2DModel
    /// The scheduler configuration (`scheduler/scheduler_config.json`).
    public let schedulerConfig: FlowMatchEulerDiscreteSchedulerConfig

    /// A denoiser from loaded parts.
    public init(transformer: ZImageTransformer2DModel, schedulerConfig: FlowMatchEulerDiscreteSchedulerConfig) {
        self.transformer = transformer
        self.schedulerConfig = schedulerConfig
    }

    /// The schedule for `steps` steps on an image of `imageSeqLen` latent tokens (sigmas from
    /// `torch.linspace(1, 1/steps, steps)`; Z-Image's `mu` only matters with dynamic shifting).
    public func scheduler(steps: Int, imageSeqLen: Int) throws(ModelError) -> FlowMatchEulerDiscreteScheduler {
        guard steps >= 1 else { throw .invalidInput("steps must be at least 1, got \(steps)") }
        do {
            var s = try FlowMatchEulerDiscreteScheduler(config: schedulerConfig)
            let c = schedulerConfig
            let mu = FlowMatchSigmas.calculateShift(imageSeqLen: imageSeqLen, baseSeqLen: c.baseImageSeqLen ?? 256,
                                                    maxSeqLen: c.maxImageSeqLen ?? 4096, baseShift: c.baseShift ?? 0.5,
                                                    maxShift: c.maxShift ?? 1.15)
            try s.setTimesteps(sigmas: FlowMatchSigmas.zImage(steps: steps), mu: mu)
            return s
        } catch {
            throw .invalidConfig("scheduler: \(error.description)")
        }
    }

    /// Denoises `noise` `[1, 16, h, w]` conditioned on `prompt` `[L, cap_feat_dim]` (and
    /// `negative` when guidance is on). `onStep(i, latents)` sees the latents after each step.
    /// Returns the final latents `[1, 16, h, w]` (unscaled, as `output_type="latent"`).
    public func denoise(noise: Tensor, prompt: Tensor, negative: Tensor?, steps: Int, guidance: ZImageGuidance,
                        context ctx: ComputeContext, onStep: ((Int, Tensor) -> Void)? = nil) throws(ModelError) -> Tensor {
        guard noise.rank == 4, noise.shape[0] == 1, noise.shape[1] == transformer.config.inChannels else {
            throw .invalidInput("noise must be [1, \(transformer.config.inChannels), h, w], got \(noise.shape)")
        }
        let cfg = guidance.scale > 0
        if cfg && negative == nil { throw .invalidInput("guidance \(guidance.scale) needs negative prompt embeddings") }
        let (c, h, w) = (noise.shape[1], noise.shape[2], noise.shape[3])
        let scheduler = try scheduler(steps: steps, imageSeqLen: (h / 2) * (w / 2))
        // Token layouts (RoPE tables) depend only on the shapes: built once, not per step.
        let posLayout = try transformer.layout(latentShape: [c, 1, h, w], captionLength: prompt.shape[0])
        let negLayout = try negative.map { (n: Tensor) throws(ModelError) in try transformer.layout(latentShape: [c, 1, h, w], captionLength: n.shape[0]) }
        var latents = noise.toFloat32(context: ctx)
        for (i, t) in scheduler.timesteps.enumerated() {
            let modelT = (1000 - t) / 1000
            var g = guidance.scale
            if cfg && guidance.truncation <= 1 && modelT > guidance.truncation { g = 0 }
            let x = latents.reshaped([c, 1, h, w])
            let pos = try transformer(latent: x, t: modelT, caption: prompt, layout: posLayout, context: ctx)
            var pred = pos
            if cfg && g > 0 {
                let neg = try transformer(latent: x, t: modelT, caption: negative!, layout: negLayout, context: ctx)
                pred = ctx.addScaled(pos, ctx.sub(pos, neg), scale: g)
                if guidance.normalization > 0 {
                    let posNorm = Self.norm(pos, ctx), predNorm = Self.norm(pred, ctx)
                    let maxNorm = posNorm * guidance.normalization
                    if predNorm > maxNorm { pred = ctx.mul(pred, Tensor(shape: [], floats: [maxNorm / predNorm])) }
                }
            }
            let noisePred = ctx.mul(pred.reshaped([1, c, h, w]), Tensor(shape: [], floats: [-1]))
            latents = scheduler.step(modelOutput: noisePred, sample: latents, index: i, context: ctx)
            onStep?(i, latents)
        }
        return latents
    }

    static func norm(_ x: Tensor, _ ctx: ComputeContext) -> Float {
        Float(x.floats(context: ctx).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
}
