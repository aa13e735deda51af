import TensorKit

/// The Qwen3 text encoder as the image pipelines use it: token embeddings and the decoder
/// layers up to the deepest hidden state requested. Loads `Qwen3Model` (no name prefix) and
/// `Qwen3ForCausalLM` (`model.` prefix, tied or untied LM head) checkpoints; the layers past the
/// deepest one used, the final norm and any LM head are shape-checked and declared known-unused,
/// never read.
public struct Qwen3TextEncoder: Sendable {
    /// The configuration (`text_encoder/config.json`).
    public let config: Qwen3Config
    /// `[vocab, hidden]` token embeddings (stored dtype, or stored quantized).
    let embedTokens: Embedding
    let layers: [Qwen3DecoderLayer]

    /// Loads the encoder in `folder`, building the layers needed for `hidden_states[deepest]`
    /// (transformers' numbering: 0 = embeddings, k = output of decoder layer k-1).
    /// Pass `config` when it was already read (otherwise `folder/config.json` is read).
    public init(folder: String, deepestHiddenState: Int, config given: Qwen3Config? = nil, quantization: WeightQuantization? = nil) throws(ModelError) {
        let config: Qwen3Config
        if let given { config = given } else { config = try Qwen3Config.load(path: folder + "/config.json") }
        self = try WeightLoader.build(folder: folder, component: "text_encoder", quantization: quantization, naming: Self.mfluxNaming) { (loader: WeightLoader) throws(ModelError) in
            try Self(config: config, loader: loader, deepestHiddenState: deepestHiddenState)
        }
    }

    /// Builds the encoder from `loader` (the caller then calls `loader.finish()`).
    public init(config c: Qwen3Config, loader: WeightLoader, deepestHiddenState: Int) throws(ModelError) {
        guard deepestHiddenState >= 0, deepestHiddenState <= c.numHiddenLayers else {
            throw .invalidConfig("text_encoder: hidden state \(deepestHiddenState) is outside 0...\(c.numHiddenLayers)")
        }
        config = c
        let root = loader.scope(loader.contains("model.embed_tokens.weight") ? "model" : "")
        embedTokens = try Embedding(root, "embed_tokens", vocab: c.vocabSize, dim: c.hiddenSize)
        var ls: [Qwen3DecoderLayer] = []
        for i in 0..<c.numHiddenLayers {
            let s = root.scope("layers.\(i)")
            if i < deepestHiddenState {
                ls.append(try Qwen3DecoderLayer(s, config: c))
            } else {
                _ = try Qwen3DecoderLayer(s.checkingOnly(), config: c)
            }
        }
        layers = ls
        try loader.declareUnused(root.name("norm.weight"), shape: [c.hiddenSize])
        if loader.contains("lm_head.weight") {
            try loader.declareUnused("lm_head.weight", shape: [c.vocabSize, c.hiddenSize])
        }
        // mflux saves its rotary table's inverse frequencies with the weights.
        if loader.contains("rotary_emb.inv_freq") {
            try loader.declareUnused("rotary_emb.inv_freq", shape: [c.headDim / 2])
        }
    }

    /// Runs the encoder on one sequence and returns the requested hidden states, each
    /// `[S, hidden]` (transformers' `output_hidden_states` numbering; none of them may be deeper
    /// than the layers built). Positions are 0..<S, padding included; attention is causal and
    /// skips padded keys.
    /// - ids: token ids; attentionMask: 1 for real tokens, 0 for padding (same length).
    public func hiddenStates(ids: [Int], attentionMask: [Int], indices: [Int], context ctx: ComputeContext) throws(ModelError) -> [Int: Tensor] {
        guard !ids.isEmpty, ids.count == attentionMask.count else {
            throw .invalidInput("text encoder: \(ids.count) ids and \(attentionMask.count) mask values")
        }
        guard let deepest = indices.max(), deepest <= layers.count, indices.allSatisfy({ $0 >= 0 }) else {
            throw .invalidInput("text encoder: hidden states \(indices) need more than the \(layers.count) layers built")
        }
        let s = ids.count
        var x: Tensor
        do {
            x = try embedTokens(ids, ctx)
        } catch {
            throw .invalidInput("text encoder: \(error.description)")
        }
        let mask = Tensor(shape: [1, s], scalars: attentionMask.map { UInt8($0 != 0 ? 1 : 0) }, dtype: .uint8)
        let rope = RopeTable.qwen(positions: Array(0..<s), headDim: config.headDim, theta: config.ropeTheta)
        var out: [Int: Tensor] = [:]
        if indices.contains(0) { out[0] = x }
        for (i, layer) in layers.prefix(deepest).enumerated() {
            x = layer(x, rope: rope, keyMask: mask, ctx)
            if indices.contains(i + 1) { out[i + 1] = x }
        }
        return out
    }
}
