import Foundation
import SafetensorsIO

/// A model folder written by mflux's `save` (0.24 format, `Docs/MfluxFormat.md`): `tokenizer/`,
/// `vae/`, `transformer/`, `text_encoder/` with shards whose metadata carries
/// `quantization_level` / `mflux_version`, and no `model_index.json` or configs. The model
/// family and every size are read from the stored tensors (mflux itself takes them from its
/// registry); what shapes cannot tell (RoPE axes, norm groups, epsilons, the VAE's latent scaling,
/// the scheduler) takes the published models' values. A `config.json` in a component folder, if
/// present, wins.
public struct MfluxSavedFolder: Sendable {
    /// The folder.
    public let path: String
    /// `mflux_version` of the transformer's shards ("unknown" when absent).
    public let version: String
    /// The model's stored bit width: the first component (vae, transformer, text_encoder) whose
    /// `quantization_level` is not None, as mflux resolves it; nil when unquantized.
    public let quantizationLevel: Int?
    /// The registry name mflux recorded in `mflux_model.json` (`base_model`, else `model_name`,
    /// e.g. `flux2-klein-base-4b`), when the file is there.
    public let modelName: String?

    /// Opens `path` when its `transformer/` is in mflux's format; nil otherwise.
    public init?(path: String) {
        guard !ModelIndex.isPipelineFolder(path), let meta = Self.metadata(path + "/transformer"),
              MfluxNaming.isMfluxFormat(metadata: meta) else { return nil }
        self.path = path
        version = meta["mflux_version"] ?? "unknown"
        quantizationLevel = ["vae", "transformer", "text_encoder"].lazy
            .compactMap { Self.metadata(path + "/" + $0).flatMap(MfluxNaming.quantizationLevel(metadata:)) }.first
        let info = FileManager.default.contents(atPath: path + "/mflux_model.json")
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        modelName = (info?["base_model"] as? String) ?? (info?["model_name"] as? String)
    }

    /// The metadata of a component folder's first shard (sorted names), as mflux reads it.
    static func metadata(_ folder: String) -> [String: String]? {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        guard let first = files.filter({ $0.hasSuffix(".safetensors") && !$0.hasPrefix("._") }).sorted().first else { return nil }
        return (try? SafetensorsFile(path: folder + "/" + first))?.metadata
    }

    /// The component `name` under diffusers names (`naming`), for reading sizes.
    public func component(_ name: String, naming: MfluxNaming) throws(ModelError) -> MfluxFormatSource {
        let folder = path + "/" + name
        guard FileManager.default.fileExists(atPath: folder) else {
            throw .checkpoint("\(path): incomplete mflux folder: component \(name) is missing")
        }
        do {
            return try MfluxFormatSource(try Checkpoint.open(folder), naming: naming)
        } catch let e as SafetensorsError {
            throw .checkpoint(e.description)
        } catch let e as ModelError {
            throw e
        } catch {
            throw .checkpoint("\(folder): \(error)")
        }
    }

    /// `config.json` of component `name` when the folder has one.
    public func configPath(_ name: String) -> String? {
        let p = path + "/" + name + "/config.json"
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// The text encoder's configuration: its `config.json`, else read from the stored tensors.
    public func textEncoderConfig() throws(ModelError) -> Qwen3Config {
        if let p = configPath("text_encoder") { return try Qwen3Config.load(path: p) }
        return try Qwen3Config.inferred(StoredShapes(source: try component("text_encoder", naming: Qwen3TextEncoder.mfluxNaming), component: "text_encoder"))
    }

    /// The VAE's configuration: its `config.json`, else read from the stored tensors.
    public func vaeConfig(_ variant: VAEVariant) throws(ModelError) -> VAEConfig {
        if let p = configPath("vae") { return try VAEConfig.load(path: p, variant: variant) }
        let v = try VAEConfig.inferred(StoredShapes(source: try component("vae", naming: variant.mfluxNaming), component: "vae"), variant: variant)
        try v.validate(path: path + "/vae")
        return v
    }
}

/// Sizes read from a component's stored tensors.
struct StoredShapes {
    let source: any TensorSource
    let component: String

    /// The stored shape of `name` (a quantized weight's rows are its output rows).
    func shape(_ name: String) throws(ModelError) -> [Int] {
        guard let info = source.info(name) else { throw .missingTensor(component: component, name: name, shape: []) }
        return info.shape
    }

    /// Dimension `axis` of `name` (positive: sizes are divided by and multiplied with each other).
    func size(_ name: String, _ axis: Int) throws(ModelError) -> Int {
        let s = try shape(name)
        guard axis < s.count, s[axis] > 0, s[axis] <= 1 << 24 else {
            throw .checkpoint("\(source.path): \(component) tensor \(name) has shape \(s): no usable size at axis \(axis)")
        }
        return s[axis]
    }

    /// How many numbered children `prefix.N.` the component has (N = 0, 1, ... without gaps).
    func count(_ prefix: String) -> Int {
        let p = prefix + "."
        var seen = Set<Int>()
        for name in source.tensorNames where name.hasPrefix(p) {
            if let n = Int(name.dropFirst(p.count).prefix { $0 != "." }) { seen.insert(n) }
        }
        var n = 0
        while seen.contains(n) { n += 1 }
        return n
    }

    func contains(_ name: String) -> Bool { source.info(name) != nil }
}

extension Qwen3Config {
    /// Qwen3-4B's values with every size read from the stored tensors.
    static func inferred(_ s: StoredShapes) throws(ModelError) -> Qwen3Config {
        var c = Qwen3Config()
        let root = s.contains("model.norm.weight") ? "model." : ""
        c.hiddenSize = try s.size(root + "norm.weight", 0)
        c.vocabSize = try s.size(root + "embed_tokens.weight", 0)
        c.numHiddenLayers = s.count(root + "layers")
        c.headDim = try s.size(root + "layers.0.self_attn.q_norm.weight", 0)
        c.numAttentionHeads = try s.size(root + "layers.0.self_attn.q_proj.weight", 0) / c.headDim
        c.numKeyValueHeads = try s.size(root + "layers.0.self_attn.k_proj.weight", 0) / c.headDim
        c.intermediateSize = try s.size(root + "layers.0.mlp.gate_proj.weight", 0)
        return c
    }
}

extension VAEConfig {
    /// The variant's published values with the channel sizes read from the stored tensors
    /// (convolutions as OIHW). GroupNorm groups and the latent scaling cannot be read: published values.
    static func inferred(_ s: StoredShapes, variant: VAEVariant) throws(ModelError) -> VAEConfig {
        var c = VAEConfig(variant: variant)
        let levels = s.count("encoder.down_blocks")
        guard levels > 0 else { throw .missingTensor(component: s.component, name: "encoder.down_blocks.0.resnets.0.conv1.weight", shape: []) }
        var channels: [Int] = []
        for i in 0..<levels { channels.append(try s.size("encoder.down_blocks.\(i).resnets.0.conv1.weight", 0)) }
        c.blockOutChannels = channels
        c.layersPerBlock = s.count("encoder.down_blocks.0.resnets")
        c.inChannels = try s.size("encoder.conv_in.weight", 1)
        c.outChannels = try s.size("decoder.conv_out.weight", 0)
        c.latentChannels = try s.size("decoder.conv_in.weight", 1)
        c.useQuantConv = s.contains("quant_conv.weight")
        c.usePostQuantConv = s.contains("post_quant_conv.weight")
        c.midBlockAddAttention = s.contains("decoder.mid_block.attentions.0.to_q.weight")
        return c
    }
}
