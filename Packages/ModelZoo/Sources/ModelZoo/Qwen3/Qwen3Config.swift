import Foundation

/// A Qwen3 text encoder's `config.json` (transformers). Both the transformers 5 form
/// (`rope_parameters`, `dtype`) and the older one the published checkpoints use (top-level
/// `rope_theta`, `torch_dtype`) are read; absent fields take Qwen3-4B's values.
public struct Qwen3Config: Sendable, Equatable {
    /// Residual width.
    public var hiddenSize = 2560
    /// SwiGLU hidden width.
    public var intermediateSize = 9728
    /// Decoder layers in the checkpoint.
    public var numHiddenLayers = 36
    /// Query heads.
    public var numAttentionHeads = 32
    /// Key/value heads (grouped-query attention).
    public var numKeyValueHeads = 8
    /// Per-head width (explicit in Qwen3; may differ from hidden / heads).
    public var headDim = 128
    /// RMSNorm epsilon.
    public var rmsNormEps = 1e-6
    /// RoPE base.
    public var ropeTheta = 1_000_000.0
    /// Embedding rows.
    public var vocabSize = 151_936
    /// Whether the LM head shares the embedding matrix.
    public var tieWordEmbeddings = true

    /// Qwen3-4B's values.
    public init() {}

    /// Reads and validates `config.json`.
    public static func load(path: String) throws(ModelError) -> Qwen3Config {
        let raw = try ConfigFile.load(RawQwen3Config.self, path: path)
        func bad(_ m: String) -> ModelError { .invalidConfig("\(path): \(m)") }
        if let t = raw.modelType, t != "qwen3" { throw bad("model_type \(t) is not qwen3") }
        var c = Qwen3Config()
        c.hiddenSize = raw.hiddenSize ?? c.hiddenSize
        c.intermediateSize = raw.intermediateSize ?? c.intermediateSize
        c.numHiddenLayers = raw.numHiddenLayers ?? c.numHiddenLayers
        c.numAttentionHeads = raw.numAttentionHeads ?? c.numAttentionHeads
        c.numKeyValueHeads = raw.numKeyValueHeads ?? c.numAttentionHeads
        c.headDim = raw.headDim ?? (c.hiddenSize / max(c.numAttentionHeads, 1))
        c.rmsNormEps = raw.rmsNormEps ?? c.rmsNormEps
        c.vocabSize = raw.vocabSize ?? c.vocabSize
        c.tieWordEmbeddings = raw.tieWordEmbeddings ?? c.tieWordEmbeddings
        if let rp = raw.ropeParameters {
            if let type = rp.ropeType, type != "default" { throw bad("rope type \(type) is not supported") }
            c.ropeTheta = rp.ropeTheta ?? raw.ropeTheta ?? c.ropeTheta
        } else {
            c.ropeTheta = raw.ropeTheta ?? c.ropeTheta
        }
        if let scaling = raw.ropeScaling, let type = scaling.ropeType ?? scaling.type, type != "default" {
            throw bad("rope_scaling \(type) is not supported")
        }
        if let act = raw.hiddenAct, act != "silu" { throw bad("hidden_act \(act) is not supported") }
        if raw.attentionBias == true { throw bad("attention_bias is not supported") }
        if raw.useSlidingWindow == true { throw bad("sliding-window attention is not supported") }
        if let types = raw.layerTypes, types.contains(where: { $0 != "full_attention" }) { throw bad("only full_attention layers are supported") }
        guard [c.hiddenSize, c.numAttentionHeads, c.numKeyValueHeads, c.headDim, c.numHiddenLayers, c.intermediateSize].allSatisfy({ $0 <= 1 << 20 }),
              c.vocabSize <= 1 << 24, c.rmsNormEps.isFinite, c.ropeTheta.isFinite, c.numAttentionHeads * c.headDim <= 1 << 20 else {
            throw bad("a size is out of range (widths up to \(1 << 20), vocab_size up to \(1 << 24))")
        }
        guard c.hiddenSize > 0, c.numAttentionHeads > 0, c.numKeyValueHeads > 0, c.numAttentionHeads % c.numKeyValueHeads == 0,
              c.headDim > 0, c.headDim % 2 == 0, c.numHiddenLayers > 0, c.intermediateSize > 0, c.vocabSize > 0 else {
            throw bad("inconsistent sizes (heads \(c.numAttentionHeads)/\(c.numKeyValueHeads), head_dim \(c.headDim))")
        }
        return c
    }
}

struct RawQwen3Config: Decodable {
    struct Rope: Decodable {
        var ropeTheta: Double?
        var ropeType: String?
        var type: String?
        enum CodingKeys: String, CodingKey { case ropeTheta = "rope_theta", ropeType = "rope_type", type }
    }
    var modelType, hiddenAct: String?
    var hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, vocabSize: Int?
    var rmsNormEps, ropeTheta: Double?
    var tieWordEmbeddings, attentionBias, useSlidingWindow: Bool?
    var ropeParameters, ropeScaling: Rope?
    var layerTypes: [String]?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", hiddenAct = "hidden_act", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim", vocabSize = "vocab_size", rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta"
        case tieWordEmbeddings = "tie_word_embeddings", attentionBias = "attention_bias", useSlidingWindow = "use_sliding_window"
        case ropeParameters = "rope_parameters", ropeScaling = "rope_scaling", layerTypes = "layer_types"
    }
}
