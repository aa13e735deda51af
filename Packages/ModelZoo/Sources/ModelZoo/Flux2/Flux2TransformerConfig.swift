import Foundation

/// `transformer/config.json` of `Flux2Transformer2DModel`. Every size comes from the file; absent
/// fields take diffusers' class defaults (those of FLUX.2 [dev]), as diffusers itself would.
public struct Flux2TransformerConfig: Sendable, Equatable {
    /// Spatial patch of the transformer (the klein pipeline packs 2x2 itself: must be 1).
    public var patchSize = 1
    /// Channels of a packed latent token (4 x the VAE's latent channels: 128).
    public var inChannels = 128
    /// Output channels (nil: `inChannels`).
    public var outChannels: Int? = nil
    /// Double-stream blocks.
    public var numLayers = 8
    /// Single-stream (parallel) blocks.
    public var numSingleLayers = 48
    /// Width of an attention head.
    public var attentionHeadDim = 128
    /// Attention heads (inner width = heads x head width).
    public var numAttentionHeads = 48
    /// Width of the text features (3 x the Qwen3 hidden size for klein).
    public var jointAttentionDim = 15360
    /// Sinusoid channels of the timestep embedding.
    public var timestepGuidanceChannels = 256
    /// Feed-forward width over the inner width.
    public var mlpRatio = 3.0
    /// RoPE dimensions of the 4 position axes (sum = head width).
    public var axesDimsRope = [32, 32, 32, 32]
    /// RoPE base.
    public var ropeTheta = 2000.0
    /// LayerNorm / RMSNorm epsilon.
    public var eps = 1e-6
    /// A guidance embedder (FLUX.2 [dev]; klein has none).
    public var guidanceEmbeds = true

    /// diffusers' class defaults.
    public init() {}

    /// `heads x head width`.
    public var innerDim: Int { numAttentionHeads * attentionHeadDim }
    /// Feed-forward hidden width, `int(inner · mlp_ratio)` as Python computes it.
    public var mlpHidden: Int { Int(Double(innerDim) * mlpRatio) }
    /// Output channels of a token.
    public var outputChannels: Int { outChannels ?? inChannels }

    /// Reads and validates `config.json`.
    public static func load(path: String) throws(ModelError) -> Flux2TransformerConfig {
        let raw = try ConfigFile.load(RawFlux2TransformerConfig.self, path: path)
        if let cls = raw.className, cls != "Flux2Transformer2DModel" {
            throw .invalidConfig("\(path): _class_name is \(cls), expected Flux2Transformer2DModel")
        }
        var c = Flux2TransformerConfig()
        c.patchSize = raw.patchSize ?? c.patchSize
        c.inChannels = raw.inChannels ?? c.inChannels
        c.outChannels = raw.outChannels
        c.numLayers = raw.numLayers ?? c.numLayers
        c.numSingleLayers = raw.numSingleLayers ?? c.numSingleLayers
        c.attentionHeadDim = raw.attentionHeadDim ?? c.attentionHeadDim
        c.numAttentionHeads = raw.numAttentionHeads ?? c.numAttentionHeads
        c.jointAttentionDim = raw.jointAttentionDim ?? c.jointAttentionDim
        c.timestepGuidanceChannels = raw.timestepGuidanceChannels ?? c.timestepGuidanceChannels
        c.mlpRatio = raw.mlpRatio ?? c.mlpRatio
        c.axesDimsRope = raw.axesDimsRope ?? c.axesDimsRope
        c.ropeTheta = raw.ropeTheta ?? c.ropeTheta
        c.eps = raw.eps ?? c.eps
        c.guidanceEmbeds = raw.guidanceEmbeds ?? c.guidanceEmbeds
        try c.validate(path: path)
        return c
    }

    /// Checks what the implementation relies on; throws a one-line error otherwise.
    public func validate(path: String = "transformer/config.json") throws(ModelError) {
        func bad(_ m: String) -> ModelError { .invalidConfig("\(path): \(m)") }
        // Bounds first: later checks multiply and sum these.
        let limit = 1 << 20
        guard [attentionHeadDim, numAttentionHeads, inChannels, jointAttentionDim, numLayers, numSingleLayers, timestepGuidanceChannels]
                .allSatisfy({ $0 <= limit }), axesDimsRope.allSatisfy({ $0 <= limit }), mlpRatio.isFinite, mlpRatio <= 64,
              (outChannels ?? 0) <= limit, attentionHeadDim * numAttentionHeads <= limit else {
            throw bad("a size is out of range (widths up to \(limit), mlp_ratio up to 64)")
        }
        guard patchSize == 1 else { throw bad("patch_size \(patchSize) is not supported (klein packs 2x2 patches in the pipeline: 1)") }
        guard attentionHeadDim > 0, numAttentionHeads > 0, inChannels > 0, jointAttentionDim > 0, numLayers >= 0, numSingleLayers >= 0,
              timestepGuidanceChannels > 0, timestepGuidanceChannels % 2 == 0, mlpRatio > 0, eps > 0 else {
            throw bad("sizes must be positive (and timestep_guidance_channels even)")
        }
        guard outputChannels == inChannels else { throw bad("out_channels \(outputChannels) != in_channels \(inChannels) is not supported") }
        guard axesDimsRope.count == 4, axesDimsRope.allSatisfy({ $0 > 0 && $0 % 2 == 0 }) else {
            throw bad("axes_dims_rope \(axesDimsRope) must be 4 even sizes (t, h, w, l)")
        }
        guard axesDimsRope.reduce(0, +) == attentionHeadDim else {
            throw bad("sum(axes_dims_rope) \(axesDimsRope.reduce(0, +)) != attention_head_dim \(attentionHeadDim)")
        }
        guard !guidanceEmbeds else { throw bad("guidance_embeds is true (FLUX.2 [dev]); only FLUX.2 [klein] is supported") }
    }
}

struct RawFlux2TransformerConfig: Decodable {
    var className: String?
    var patchSize, inChannels, outChannels, numLayers, numSingleLayers, attentionHeadDim, numAttentionHeads: Int?
    var jointAttentionDim, timestepGuidanceChannels: Int?
    var mlpRatio, ropeTheta, eps: Double?
    var axesDimsRope: [Int]?
    var guidanceEmbeds: Bool?

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", patchSize = "patch_size", inChannels = "in_channels", outChannels = "out_channels"
        case numLayers = "num_layers", numSingleLayers = "num_single_layers", attentionHeadDim = "attention_head_dim"
        case numAttentionHeads = "num_attention_heads", jointAttentionDim = "joint_attention_dim"
        case timestepGuidanceChannels = "timestep_guidance_channels", mlpRatio = "mlp_ratio", ropeTheta = "rope_theta", eps
        case axesDimsRope = "axes_dims_rope", guidanceEmbeds = "guidance_embeds"
    }
}
