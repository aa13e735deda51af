import TensorKit

/// FLUX.2 [klein]'s `predict` for the shared loop: the transformer on packed tokens at
/// `timestep / 1000` (no sign flip), and, for non-distilled models with guidance > 1,
/// classifier-free guidance `neg + g·(pos - neg)`.
public struct Flux2Predictor: NoisePredictor {
    /// The transformer.
    public let transformer: Flux2Transformer2DModel
    /// `[512, joint]` prompt features and, under guidance, the negative prompt's.
    public let prompt: Tensor, negative: Tensor?
    /// The guidance scale (used when `negative` is given).
    public let guidance: Float
    private let tokens: Int, rope: RopeTable, negativeRope: RopeTable?

    /// A predictor for the `[1, h, w, 128]` token grid; `negative` turns
    /// guidance on. RoPE tables depend only on the shapes: built once here.
    public init(transformer: Flux2Transformer2DModel, prompt: Tensor, negative: Tensor?, guidance: Float,
                tokenHeight h: Int, tokenWidth w: Int) {
        self.transformer = transformer
        self.prompt = prompt
        self.negative = negative
        self.guidance = guidance
        tokens = h * w
        let imageIds = Flux2Latents.imageIds(height: h, width: w)
        rope = transformer.rope(textIds: Flux2Latents.textIds(count: prompt.shape[0]), imageIds: imageIds)
        negativeRope = negative.map { transformer.rope(textIds: Flux2Latents.textIds(count: $0.shape[0]), imageIds: imageIds) }
    }

    public func predict(latents: Tensor, index: Int, timestep: Float, sigma: Float, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let x = latents.reshaped([tokens, transformer.config.inChannels])
        let t = timestep / 1000
        let pos = try transformer(hiddenStates: x, encoderHiddenStates: prompt, timestep: t, rope: rope, context: ctx)
        guard let negative, let negativeRope else { return pos.reshaped(latents.shape) }
        let neg = try transformer(hiddenStates: x, encoderHiddenStates: negative, timestep: t, rope: negativeRope, context: ctx)
        return ctx.addScaled(neg, ctx.sub(pos, neg), scale: guidance).reshaped(latents.shape)
    }
}
