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
    /// Reference-image tokens appended after the image tokens (editing), if any.
    public let references: ReferenceTokens?
    private let tokens: Int, rope: RopeTable, negativeRope: RopeTable?

    /// A predictor for the `[1, h, w, 128]` token grid; `negative` turns guidance on;
    /// `references` are appended to every call (both passes) and their outputs dropped. RoPE
    /// tables depend only on the shapes: built once here.
    public init(transformer: Flux2Transformer2DModel, prompt: Tensor, negative: Tensor?, guidance: Float,
                tokenHeight h: Int, tokenWidth w: Int, references: ReferenceTokens? = nil) {
        self.transformer = transformer
        self.prompt = prompt
        self.negative = negative
        self.guidance = guidance
        self.references = references
        tokens = h * w
        let imageIds = Flux2Latents.imageIds(height: h, width: w) + (references?.ids ?? [])
        rope = transformer.rope(textIds: Flux2Latents.textIds(count: prompt.shape[0]), imageIds: imageIds)
        negativeRope = negative.map { transformer.rope(textIds: Flux2Latents.textIds(count: $0.shape[0]), imageIds: imageIds) }
    }

    public func predict(latents: Tensor, index: Int, timestep: Float, sigma: Float, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        var x = latents.reshaped([tokens, transformer.config.inChannels])
        if let references { x = Tensor.concat([x, references.tokens], axis: 0, context: ctx) }
        let t = timestep / 1000
        let pos = output(try transformer(hiddenStates: x, encoderHiddenStates: prompt, timestep: t, rope: rope, context: ctx), ctx)
        guard let negative, let negativeRope else { return pos.reshaped(latents.shape) }
        let neg = output(try transformer(hiddenStates: x, encoderHiddenStates: negative, timestep: t, rope: negativeRope, context: ctx), ctx)
        return ctx.addScaled(neg, ctx.sub(pos, neg), scale: guidance).reshaped(latents.shape)
    }

    /// The image tokens' rows of a transformer output (`out[:, :n]`).
    private func output(_ out: Tensor, _ ctx: ComputeContext) -> Tensor {
        out.shape[0] == tokens ? out : out.split(sizes: [tokens, out.shape[0] - tokens], axis: 0, context: ctx)[0]
    }
}
