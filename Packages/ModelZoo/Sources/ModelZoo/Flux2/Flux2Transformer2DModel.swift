import Foundation
import TensorKit

/// diffusers' `Flux2Transformer2DModel` (FLUX.2 [klein]): timestep embedding, the shared
/// modulations, double-stream then single-stream blocks over `[text, image]` tokens, the
/// adaptive output norm and projection. Every linear is bias-free; weights stay in their stored
/// dtype, memory-mapped.
public struct Flux2Transformer2DModel: Sendable {
    /// The configuration (from `transformer/config.json`).
    public let config: Flux2TransformerConfig
    let timeLinear1: Linear, timeLinear2: Linear
    let modImg: Flux2Modulation, modTxt: Flux2Modulation, modSingle: Flux2Modulation, normOut: Flux2Modulation
    let xEmbedder: Linear, contextEmbedder: Linear, projOut: Linear
    let blocks: [Flux2TransformerBlock]
    let singleBlocks: [Flux2SingleTransformerBlock]

    /// Loads the transformer in `folder`; every tensor must be used. Pass `config` when it was
    /// already read.
    /// `loras`: LoRA adapters by layer name (every one must find its layer).
    public init(folder: String, config given: Flux2TransformerConfig? = nil, quantization: WeightQuantization? = nil,
                loras: LoRASet? = nil) throws(ModelError) {
        let config: Flux2TransformerConfig
        if let given { config = given } else { config = try Flux2TransformerConfig.load(path: folder + "/config.json") }
        self = try WeightLoader.build(folder: folder, component: "transformer", quantization: quantization, naming: Self.mfluxNaming, loras: loras) { (loader: WeightLoader) throws(ModelError) in
            try Self(config: config, loader: loader)
        }
    }

    /// Builds the transformer from `loader` (the caller calls `loader.finish()`).
    public init(config c: Flux2TransformerConfig, loader: WeightLoader) throws(ModelError) {
        config = c
        let r = loader.scope(""), d = c.innerDim
        timeLinear1 = try Linear(r, "time_guidance_embed.timestep_embedder.linear_1", in: c.timestepGuidanceChannels, out: d, bias: false)
        timeLinear2 = try Linear(r, "time_guidance_embed.timestep_embedder.linear_2", in: d, out: d, bias: false)
        modImg = try Flux2Modulation(r, "double_stream_modulation_img.linear", dim: d, count: 6)
        modTxt = try Flux2Modulation(r, "double_stream_modulation_txt.linear", dim: d, count: 6)
        modSingle = try Flux2Modulation(r, "single_stream_modulation.linear", dim: d, count: 3)
        normOut = try Flux2Modulation(r, "norm_out.linear", dim: d, count: 2)
        xEmbedder = try Linear(r, "x_embedder", in: c.inChannels, out: d, bias: false)
        contextEmbedder = try Linear(r, "context_embedder", in: c.jointAttentionDim, out: d, bias: false)
        projOut = try Linear(r, "proj_out", in: d, out: c.outputChannels, bias: false)
        var blocks: [Flux2TransformerBlock] = []
        for i in 0..<c.numLayers { blocks.append(try Flux2TransformerBlock(r.scope("transformer_blocks.\(i)"), config: c)) }
        self.blocks = blocks
        var singles: [Flux2SingleTransformerBlock] = []
        for i in 0..<c.numSingleLayers { singles.append(try Flux2SingleTransformerBlock(r.scope("single_transformer_blocks.\(i)"), config: c)) }
        singleBlocks = singles
    }

    /// The RoPE table of `[text, image]` tokens (`Flux2PosEmbed`: per axis, float64 angles and
    /// cos/sin, rounded to float32, repeat-interleaved pairs); ids are 4 coordinates (t, h, w, l).
    public func rope(textIds: [[Int]], imageIds: [[Int]]) -> RopeTable {
        RopeTable.multiAxis(ids: textIds + imageIds, axesDims: config.axesDimsRope, theta: config.ropeTheta, precision: .float64)
    }

    /// One forward pass (batch of one).
    /// - hiddenStates: `[N, in_channels]` packed latent tokens.
    /// - encoderHiddenStates: `[L, joint_attention_dim]` text features.
    /// - timestep: what the pipeline passes, `t / 1000` (multiplied by 1000 here, as diffusers does).
    /// - rope: ``rope(textIds:imageIds:)`` for `L` text and `N` image tokens.
    /// - Returns: `[N, out_channels]`, the predicted velocity.
    public func callAsFunction(hiddenStates: Tensor, encoderHiddenStates: Tensor, timestep: Float, rope: RopeTable,
                               context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let c = config
        guard hiddenStates.rank == 2, hiddenStates.shape[1] == c.inChannels, hiddenStates.shape[0] > 0 else {
            throw .invalidInput("transformer input must be [N > 0, \(c.inChannels)], got \(hiddenStates.shape)")
        }
        guard encoderHiddenStates.rank == 2, encoderHiddenStates.shape[1] == c.jointAttentionDim, encoderHiddenStates.shape[0] > 0 else {
            throw .invalidInput("text features must be [L > 0, \(c.jointAttentionDim)], got \(encoderHiddenStates.shape)")
        }
        let (n, l) = (hiddenStates.shape[0], encoderHiddenStates.shape[0])
        guard rope.positions == n + l else { throw .invalidInput("RoPE table has \(rope.positions) positions for \(l) + \(n) tokens") }
        // Time embedding: sinusoid of timestep·1000 -> linear_1 -> SiLU -> linear_2.
        let sinusoid = TimestepSinusoid.embed([timestep * 1000], channels: c.timestepGuidanceChannels)
        let temb = timeLinear2(ctx.silu(timeLinear1(sinusoid, ctx)), ctx)
        let mImg = modImg(temb, ctx), mTxt = modTxt(temb, ctx), mSingle = modSingle(temb, ctx)
        var img = xEmbedder(hiddenStates, ctx)
        var txt = contextEmbedder(encoderHiddenStates, ctx)
        for block in blocks { (txt, img) = block(img: img, txt: txt, modImg: mImg, modTxt: mTxt, rope: rope, ctx) }
        var h = Tensor.concat([txt, img], axis: 0, context: ctx)
        for block in singleBlocks { h = block(h, mod: mSingle, rope: rope, ctx) }
        h = h.split(sizes: [l, n], axis: 0, context: ctx)[1]
        // AdaLayerNormContinuous: scale first, then shift.
        let ss = normOut(temb, ctx)
        let one = Tensor(shape: [], floats: [1])
        h = ctx.add(ctx.mul(ctx.layerNorm(h, eps: Float(c.eps)), ctx.add(one, ss[0])), ss[1])
        return projOut(h, ctx)
    }
}
