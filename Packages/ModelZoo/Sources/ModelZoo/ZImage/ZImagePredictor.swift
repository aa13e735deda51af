import TensorKit

/// Z-Image's `predict` for the shared loop: the transformer on `(1000 - t) / 1000`, classifier-free
/// guidance `pos + g·(pos - neg)` when enabled (with diffusers' optional renormalisation and
/// truncation), and the sign flip that turns the output into the scheduler's model output.
public struct ZImagePredictor: NoisePredictor {
    /// The transformer.
    public let transformer: ZImageTransformer2DModel
    /// `[L, cap_feat_dim]` prompt features and, under guidance, the negative ones.
    public let prompt: Tensor, negative: Tensor?
    /// The guidance settings.
    public let guidance: ZImageGuidance
    private let latentShape: [Int]
    private let positiveLayout: ZImageTransformer2DModel.SequenceLayout
    private let negativeLayout: ZImageTransformer2DModel.SequenceLayout?

    /// The predictor for latents of `latentShape` `[1, C, h, w]`; token layouts (RoPE tables)
    /// depend only on the shapes, so they are built here once, not per step.
    public init(transformer: ZImageTransformer2DModel, prompt: Tensor, negative: Tensor?, guidance: ZImageGuidance,
                latentShape: [Int]) throws(ModelError) {
        let c = transformer.config.inChannels
        guard latentShape.count == 4, latentShape[0] == 1, latentShape[1] == c else {
            throw .invalidInput("latents must be [1, \(c), h, w], got \(latentShape)")
        }
        if guidance.scale > 0 && negative == nil { throw .invalidInput("guidance \(guidance.scale) needs negative prompt embeddings") }
        let (h, w) = (latentShape[2], latentShape[3])
        self.transformer = transformer
        self.prompt = prompt
        self.negative = guidance.scale > 0 ? negative : nil
        self.guidance = guidance
        self.latentShape = latentShape
        positiveLayout = try transformer.layout(latentShape: [c, 1, h, w], captionLength: prompt.shape[0])
        negativeLayout = try self.negative.map { (n: Tensor) throws(ModelError) in
            try transformer.layout(latentShape: [c, 1, h, w], captionLength: n.shape[0])
        }
    }

    public func predict(latents: Tensor, index: Int, timestep: Float, sigma: Float, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let (c, h, w) = (latentShape[1], latentShape[2], latentShape[3])
        let modelT = (1000 - timestep) / 1000
        var g = guidance.scale
        if g > 0 && guidance.truncation <= 1 && modelT > guidance.truncation { g = 0 }
        let x = latents.reshaped([c, 1, h, w])
        let pos = try transformer(latent: x, t: modelT, caption: prompt, layout: positiveLayout, context: ctx)
        var pred = pos
        if g > 0, let negative, let negativeLayout {
            let neg = try transformer(latent: x, t: modelT, caption: negative, layout: negativeLayout, context: ctx)
            pred = ctx.addScaled(pos, ctx.sub(pos, neg), scale: g)
            if guidance.normalization > 0 {
                let posNorm = Self.norm(pos, ctx), predNorm = Self.norm(pred, ctx)
                let maxNorm = posNorm * guidance.normalization
                if predNorm > maxNorm { pred = ctx.mul(pred, Tensor(shape: [], floats: [maxNorm / predNorm])) }
            }
        }
        return ctx.mul(pred.reshaped([1, c, h, w]), Tensor(shape: [], floats: [-1]))
    }

    static func norm(_ x: Tensor, _ ctx: ComputeContext) -> Float {
        Float(x.floats(context: ctx).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
    }
}
