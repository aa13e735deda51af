import Foundation

/// `transformer/config.json` of `ZImageTransformer2DModel`. Every size comes from the file; absent
/// fields take the published Z-Image-Turbo values (dim 3840, 30 layers, 30 heads, ...).
public struct ZImageTransformerConfig: Sendable, Equatable {
    /// Spatial patch sizes with an embedder each (the pipeline uses 2).
    public var allPatchSize = [2]
    /// Frame patch sizes, paired with `allPatchSize` (the pipeline uses 1).
    public var allFPatchSize = [1]
    /// Latent channels (16).
    public var inChannels = 16
    /// Model width.
    public var dim = 3840
    /// Main blocks.
    public var nLayers = 30
    /// Blocks of the noise refiner and of the context refiner, each.
    public var nRefinerLayers = 2
    /// Attention heads (`head_dim = dim / n_heads`).
    public var nHeads = 30
    /// Key/value heads (must equal `n_heads`: the model has no grouped-query attention).
    public var nKvHeads = 30
    /// RMSNorm epsilon of the blocks and the caption embedder.
    public var normEps = 1e-5
    /// Per-head RMSNorm on queries and keys.
    public var qkNorm = true
    /// Width of the text-encoder features (Qwen3 hidden size).
    public var capFeatDim = 2560
    /// Omni/SigLIP width (must be absent: text-to-image only).
    public var siglipFeatDim: Int? = nil
    /// RoPE base.
    public var ropeTheta = 256.0
    /// Multiplier of the time input before the sinusoid.
    public var tScale = 1000.0
    /// RoPE dimensions per axis (sum = head_dim).
    public var axesDims = [32, 48, 48]
    /// RoPE table lengths per axis (positions must stay below them).
    public var axesLens = [1536, 512, 512]

    /// The published defaults.
    public init() {}

    /// `dim / n_heads`.
    public var headDim: Int { dim / nHeads }
    /// SwiGLU hidden width, `int(dim / 3 * 8)` as Python computes it.
    public var ffnHidden: Int { Int(Double(dim) / 3 * 8) }
    /// Width of the time embedding (`min(dim, 256)`).
    public var adalnDim: Int { min(dim, 256) }
    /// The patch sizes the pipeline runs (2 and 1).
    public static let pipelinePatch = (patch: 2, framePatch: 1)

    /// Reads and validates `config.json`.
    public static func load(path: String) throws(ModelError) -> ZImageTransformerConfig {
        let raw = try ConfigFile.load(RawZImageTransformerConfig.self, path: path)
        if let cls = raw.className, cls != "ZImageTransformer2DModel" {
            throw .invalidConfig("\(path): _class_name is \(cls), expected ZImageTransformer2DModel")
        }
        var c = ZImageTransformerConfig()
        c.allPatchSize = raw.allPatchSize ?? c.allPatchSize
        c.allFPatchSize = raw.allFPatchSize ?? c.allFPatchSize
        c.inChannels = raw.inChannels ?? c.inChannels
        c.dim = raw.dim ?? c.dim
        c.nLayers = raw.nLayers ?? c.nLayers
        c.nRefinerLayers = raw.nRefinerLayers ?? c.nRefinerLayers
        c.nHeads = raw.nHeads ?? c.nHeads
        c.nKvHeads = raw.nKvHeads ?? c.nHeads
        c.normEps = raw.normEps ?? c.normEps
        c.qkNorm = raw.qkNorm ?? c.qkNorm
        c.capFeatDim = raw.capFeatDim ?? c.capFeatDim
        c.siglipFeatDim = raw.siglipFeatDim
        c.ropeTheta = raw.ropeTheta ?? c.ropeTheta
        c.tScale = raw.tScale ?? c.tScale
        c.axesDims = raw.axesDims ?? c.axesDims
        c.axesLens = raw.axesLens ?? c.axesLens
        try c.validate(path: path)
        return c
    }

    /// Checks what the implementation relies on; throws a one-line error otherwise.
    public func validate(path: String = "transformer/config.json") throws(ModelError) {
        func bad(_ m: String) -> ModelError { .invalidConfig("\(path): \(m)") }
        // Bounds first: later checks multiply and sum these.
        let limit = 1 << 20
        guard [dim, nHeads, nKvHeads, nLayers, nRefinerLayers, capFeatDim, inChannels].allSatisfy({ $0 <= limit }),
              (axesDims + axesLens).allSatisfy({ $0 <= limit }), (allPatchSize + allFPatchSize).allSatisfy({ $0 <= 64 }),
              normEps.isFinite, ropeTheta.isFinite, tScale.isFinite else {
            throw bad("a size is out of range (widths up to \(limit), patch sizes up to 64)")
        }
        guard dim > 0, nHeads > 0, dim % nHeads == 0 else { throw bad("dim \(dim) is not a multiple of n_heads \(nHeads)") }
        guard nKvHeads == nHeads else { throw bad("n_kv_heads \(nKvHeads) != n_heads \(nHeads) is not supported") }
        guard axesDims.count == axesLens.count, !axesDims.isEmpty, axesDims.allSatisfy({ $0 > 0 && $0 % 2 == 0 }) else {
            throw bad("axes_dims \(axesDims) must be even and match axes_lens \(axesLens)")
        }
        guard axesDims.reduce(0, +) == headDim else { throw bad("sum(axes_dims) \(axesDims.reduce(0, +)) != head_dim \(headDim)") }
        guard axesDims.count == 3 else { throw bad("Z-Image positions have 3 axes; axes_dims has \(axesDims.count)") }
        guard allPatchSize.count == allFPatchSize.count,
              zip(allPatchSize, allFPatchSize).contains(where: { $0 == ZImageTransformerConfig.pipelinePatch.patch && $1 == ZImageTransformerConfig.pipelinePatch.framePatch }) else {
            throw bad("all_patch_size/all_f_patch_size \(allPatchSize)/\(allFPatchSize) lack the 2/1 patch the pipeline uses")
        }
        guard siglipFeatDim == nil else { throw bad("siglip_feat_dim is set: the Omni variant is not supported") }
        guard inChannels > 0, capFeatDim > 0, nLayers >= 0, nRefinerLayers >= 0, normEps > 0 else { throw bad("sizes must be positive") }
    }
}

struct RawZImageTransformerConfig: Decodable {
    var className: String?
    var allPatchSize, allFPatchSize, axesDims, axesLens: [Int]?
    var inChannels, dim, nLayers, nRefinerLayers, nHeads, nKvHeads, capFeatDim, siglipFeatDim: Int?
    var normEps, ropeTheta, tScale: Double?
    var qkNorm: Bool?

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", allPatchSize = "all_patch_size", allFPatchSize = "all_f_patch_size"
        case axesDims = "axes_dims", axesLens = "axes_lens", inChannels = "in_channels", dim, nLayers = "n_layers"
        case nRefinerLayers = "n_refiner_layers", nHeads = "n_heads", nKvHeads = "n_kv_heads", capFeatDim = "cap_feat_dim"
        case siglipFeatDim = "siglip_feat_dim", normEps = "norm_eps", ropeTheta = "rope_theta", tScale = "t_scale", qkNorm = "qk_norm"
    }
}
