import TensorKit

/// `ZImageTransformer2DModel` (S3-DiT), text-to-image mode: patchify the latent, embed image
/// and caption tokens (padded to multiples of 32 with learned pad tokens), refine each stream
/// (noise refiner: modulated; context refiner: not), run the main blocks over
/// `[image tokens, caption tokens]` with 3-axis RoPE, final layer, unpatchify.
///
/// Batch items are independent (diffusers masks the batch padding), so each item runs on its
/// own. The tiny test checkpoints and the real 3840-wide, 30-layer model use the same code.
public struct ZImageTransformer2DModel: Sendable {
    /// The configuration (from `transformer/config.json`).
    public let config: ZImageTransformerConfig
    let tEmbedder: ZImageTimestepEmbedder
    let xEmbedder: Linear
    let capNorm: RMSNorm, capLinear: Linear
    let xPadToken: Tensor, capPadToken: Tensor
    let noiseRefiner: [ZImageTransformerBlock]
    let contextRefiner: [ZImageTransformerBlock]
    let layers: [ZImageTransformerBlock]
    let finalLayer: ZImageFinalLayer
    let patch: Int, framePatch: Int

    /// Tokens are padded to a multiple of this (`SEQ_MULTI_OF`).
    public static let sequenceMultiple = 32

    /// Loads the transformer in `folder` (`config.json` + single or sharded safetensors, any float
    /// dtype, memory-mapped). Every tensor must be used or known-unused.
    /// Pass `config` when it was already read (otherwise `folder/config.json` is read).
    /// `loras`: LoRA adapters by layer name (every one must find its layer).
    public init(folder: String, config given: ZImageTransformerConfig? = nil, quantization: WeightQuantization? = nil,
                loras: LoRASet? = nil) throws(ModelError) {
        let config: ZImageTransformerConfig
        if let given { config = given } else { config = try ZImageTransformerConfig.load(path: folder + "/config.json") }
        self = try WeightLoader.build(folder: folder, component: "transformer", quantization: quantization, naming: Self.mfluxNaming, loras: loras) { (loader: WeightLoader) throws(ModelError) in
            try Self(config: config, loader: loader)
        }
    }

    /// Builds the model from `loader` (the caller then calls `loader.finish()`).
    public init(config c: ZImageTransformerConfig, loader: WeightLoader) throws(ModelError) {
        config = c
        let root = loader.scope("")
        (patch, framePatch) = ZImageTransformerConfig.pipelinePatch
        // One embedder and final layer per configured patch size; the pipeline uses "2-1".
        var xEmb: Linear?, final: ZImageFinalLayer?
        for (p, pf) in zip(c.allPatchSize, c.allFPatchSize) {
            let key = "\(p)-\(pf)"
            let dimIn = pf * p * p * c.inChannels
            let xs = root.scope("all_x_embedder"), fs = root.scope("all_final_layer.\(key)")
            if p == patch && pf == framePatch {
                xEmb = try Linear(xs, key, in: dimIn, out: c.dim, bias: true)
                final = try ZImageFinalLayer(fs, config: c, outChannels: dimIn)
            } else {
                _ = try Linear(xs.checkingOnly(), key, in: dimIn, out: c.dim, bias: true)
                _ = try ZImageFinalLayer(fs.checkingOnly(), config: c, outChannels: dimIn)
            }
        }
        xEmbedder = xEmb!
        finalLayer = final!
        tEmbedder = try ZImageTimestepEmbedder(root.scope("t_embedder"), config: c)
        capNorm = try RMSNorm(root, "cap_embedder.0", dim: c.capFeatDim, eps: Float(c.normEps))
        capLinear = try Linear(root, "cap_embedder.1", in: c.capFeatDim, out: c.dim, bias: true)
        xPadToken = try root.tensor("x_pad_token", shape: [1, c.dim])
        capPadToken = try root.tensor("cap_pad_token", shape: [1, c.dim])
        var nr: [ZImageTransformerBlock] = [], cr: [ZImageTransformerBlock] = [], ls: [ZImageTransformerBlock] = []
        for i in 0..<c.nRefinerLayers {
            nr.append(try ZImageTransformerBlock(root.scope("noise_refiner.\(i)"), config: c, modulated: true))
            cr.append(try ZImageTransformerBlock(root.scope("context_refiner.\(i)"), config: c, modulated: false))
        }
        for i in 0..<c.nLayers {
            ls.append(try ZImageTransformerBlock(root.scope("layers.\(i)"), config: c, modulated: true))
        }
        noiseRefiner = nr
        contextRefiner = cr
        layers = ls
    }

    /// Pads a token count to the next multiple of 32.
    static func padded(_ n: Int) -> Int { n + (sequenceMultiple - n % sequenceMultiple) % sequenceMultiple }

    /// The token layout of one batch item: padded lengths and RoPE tables. It depends only on
    /// the latent size and the caption length, so a denoising loop builds it once, not per step.
    public struct SequenceLayout: Sendable {
        /// Latent `[C, F, H, W]` the layout is for.
        public let latentShape: [Int]
        /// Real and padded image / caption token counts.
        public let imageTokens: Int, paddedImageTokens: Int, captionTokens: Int, paddedCaptionTokens: Int
        /// RoPE tables of the image tokens, the caption tokens, and the unified `[image, caption]`
        /// sequence.
        let imageRope: RopeTable, captionRope: RopeTable, unifiedRope: RopeTable
    }

    /// The layout for a latent of `latentShape` (`[C, F, H, W]`) and a caption of `captionLength`
    /// tokens. Positions: caption k -> (1 + k, 0, 0) through its padding; image (f, h, w) ->
    /// (padded caption + 1 + f, h, w); image padding -> (0, 0, 0). Throws when the shape does not
    /// fit the model or a position exceeds `axes_lens`.
    public func layout(latentShape: [Int], captionLength: Int) throws(ModelError) -> SequenceLayout {
        let c = config
        guard latentShape.count == 4, latentShape[0] == c.inChannels, latentShape[1] > 0, latentShape[1] % framePatch == 0,
              latentShape[2] > 0, latentShape[3] > 0, latentShape[2] % patch == 0, latentShape[3] % patch == 0 else {
            throw .invalidInput("transformer latent must be [\(c.inChannels), F, H, W] with H, W multiples of \(patch), got \(latentShape)")
        }
        guard captionLength > 0 else { throw .invalidInput("the caption has no tokens") }
        let (ft, ht, wt) = (latentShape[1] / framePatch, latentShape[2] / patch, latentShape[3] / patch)
        let nImg = ft * ht * wt, nImgPad = Self.padded(nImg)
        let nCap = captionLength, nCapPad = Self.padded(nCap)
        let capIds = (0..<nCapPad).map { [1 + $0, 0, 0] }
        var imgIds: [[Int]] = []
        imgIds.reserveCapacity(nImgPad)
        for fi in 0..<ft { for hi in 0..<ht { for wi in 0..<wt { imgIds.append([nCapPad + 1 + fi, hi, wi]) } } }
        imgIds += Array(repeating: [0, 0, 0], count: nImgPad - nImg)
        for (axis, len) in c.axesLens.enumerated() {
            let top = max(capIds.map { $0[axis] }.max() ?? 0, imgIds.map { $0[axis] }.max() ?? 0)
            guard top < len else {
                throw .invalidInput("position \(top) on RoPE axis \(axis) exceeds axes_lens \(len) (caption of \(nCap) tokens, \(ht)x\(wt) image tokens)")
            }
        }
        let capRope = RopeTable.multiAxis(ids: capIds, axesDims: c.axesDims, theta: c.ropeTheta, precision: .float32Angle)
        let imgRope = RopeTable.multiAxis(ids: imgIds, axesDims: c.axesDims, theta: c.ropeTheta, precision: .float32Angle)
        let unified = RopeTable(positions: nImgPad + nCapPad, halfDim: imgRope.halfDim,
                                cos: imgRope.cos + capRope.cos, sin: imgRope.sin + capRope.sin)
        return SequenceLayout(latentShape: latentShape, imageTokens: nImg, paddedImageTokens: nImgPad, captionTokens: nCap,
                              paddedCaptionTokens: nCapPad, imageRope: imgRope, captionRope: capRope, unifiedRope: unified)
    }

    /// Runs one batch item.
    /// - latent: `[C, F, H, W]` (the pipeline's `(16, 1, H/8, W/8)`), H and W multiples of 2.
    /// - t: the model time `(1000 - timestep) / 1000` (multiplied by `t_scale` here).
    /// - caption: `[L, cap_feat_dim]` text-encoder features of the real tokens.
    /// - layout: from ``layout(latentShape:captionLength:)`` for these shapes (built here when nil).
    /// - Returns: `[C, F, H, W]`, the raw model output (the pipeline negates it).
    public func callAsFunction(latent: Tensor, t: Float, caption: Tensor, layout: SequenceLayout? = nil,
                               context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let c = config
        guard caption.rank == 2, caption.shape[1] == c.capFeatDim else {
            throw .invalidInput("caption features must be [L > 0, \(c.capFeatDim)], got \(caption.shape)")
        }
        let lay: SequenceLayout
        if let layout { lay = layout } else { lay = try self.layout(latentShape: latent.shape, captionLength: caption.shape[0]) }
        guard lay.latentShape == latent.shape, lay.captionTokens == caption.shape[0] else {
            throw .invalidInput("sequence layout is for \(lay.latentShape) and \(lay.captionTokens) caption tokens, got \(latent.shape) and \(caption.shape[0])")
        }
        let (f, h, w) = (latent.shape[1], latent.shape[2], latent.shape[3])
        let (nImg, nImgPad, nCap, nCapPad) = (lay.imageTokens, lay.paddedImageTokens, lay.captionTokens, lay.paddedCaptionTokens)

        let adaln = tEmbedder(t * Float(c.tScale), ctx)

        // Image tokens: embed, pad with x_pad_token, noise refiner.
        var x = xEmbedder(ZImageLatents.patchify(latent, patch: patch, framePatch: framePatch), ctx)
        if nImgPad > nImg { x = Tensor.concat([x] + Array(repeating: xPadToken.toFloat32(context: ctx), count: nImgPad - nImg), axis: 0) }
        for block in noiseRefiner { x = block(x, rope: lay.imageRope, adaln: adaln, ctx) }

        // Caption tokens: RMSNorm + Linear, pad with cap_pad_token, context refiner.
        var cap = capLinear(capNorm(caption, ctx), ctx)
        if nCapPad > nCap { cap = Tensor.concat([cap] + Array(repeating: capPadToken.toFloat32(context: ctx), count: nCapPad - nCap), axis: 0) }
        for block in contextRefiner { cap = block(cap, rope: lay.captionRope, adaln: nil, ctx) }

        // Unified sequence [image, caption]; every token (pads included) is attended.
        var u = Tensor.concat([x, cap], axis: 0, context: ctx)
        for block in layers { u = block(u, rope: lay.unifiedRope, adaln: adaln, ctx) }
        let out = finalLayer(u, adaln: adaln, ctx)
        return ZImageLatents.unpatchify(out, channels: c.inChannels, frames: f, height: h, width: w, patch: patch, framePatch: framePatch)
    }
}
