import Foundation
import Schedulers

extension Flux2Klein {
    /// The components mflux saves for FLUX.2-klein (its write order) and their names.
    public static let mfluxComponents = [MfluxComponent("vae", VAEVariant.flux2.mfluxNaming),
                                         MfluxComponent("transformer", Flux2Transformer2DModel.mfluxNaming),
                                         MfluxComponent("text_encoder", Qwen3TextEncoder.mfluxNaming)]

    /// Whether an mflux-saved transformer (under diffusers names) is FLUX.2's.
    static func isMfluxTransformer(_ source: MfluxFormatSource) -> Bool {
        source.info("x_embedder.weight") != nil && source.info("single_stream_modulation.linear.weight") != nil
    }

    /// Whether a folder saved by mflux holds a base (undistilled) klein. The weights cannot tell;
    /// mflux goes by the model name (`flux2-klein-base-4b`, ...): the name in `mflux_model.json`
    /// when present, else the folder's name, as mflux matches its aliases.
    static func mfluxIsBase(_ saved: MfluxSavedFolder) -> Bool {
        let name = (saved.modelName ?? URL(fileURLWithPath: saved.path).standardizedFileURL.lastPathComponent).lowercased()
        return name.contains("klein-base") || name.contains("base-4b") || name.contains("base-9b")
    }

    /// The configurations of a folder saved by mflux: `config.json` files when present, else
    /// FLUX.2-klein's published values with every size read from the stored tensors (4B and 9B
    /// alike); the scheduler is klein's (dynamic shifting).
    static func mfluxConfigs(_ saved: MfluxSavedFolder) throws(ModelError)
        -> (Flux2TransformerConfig, Qwen3Config, VAEConfig, FlowMatchEulerDiscreteSchedulerConfig) {
        let textEncoder = try saved.textEncoderConfig()
        let transformer: Flux2TransformerConfig
        if let p = saved.configPath("transformer") {
            transformer = try Flux2TransformerConfig.load(path: p)
        } else {
            let s = StoredShapes(source: try saved.component("transformer", naming: Flux2Transformer2DModel.mfluxNaming), component: "transformer")
            var c = Flux2TransformerConfig()
            c.guidanceEmbeds = false
            let inner = try s.size("x_embedder.weight", 0)
            c.numLayers = s.count("transformer_blocks")
            c.numSingleLayers = s.count("single_transformer_blocks")
            let block = c.numLayers > 0 ? "transformer_blocks.0" : "single_transformer_blocks.0"
            c.attentionHeadDim = try s.size(block + ".attn.norm_q.weight", 0)
            c.numAttentionHeads = inner / c.attentionHeadDim
            c.inChannels = try s.size("proj_out.weight", 0)
            c.jointAttentionDim = Flux2Klein.textEncoderOutLayers.count * textEncoder.hiddenSize
            let mlp = c.numLayers > 0 ? try s.size("transformer_blocks.0.ff.linear_in.weight", 0) / 2
                : (try s.size("single_transformer_blocks.0.attn.to_qkv_mlp_proj.weight", 0) - 3 * inner) / 2
            c.mlpRatio = Double(mlp) / Double(inner)
            try c.validate(path: saved.path + "/transformer")
            transformer = c
        }
        let vae = try saved.vaeConfig(.flux2)
        var scheduler = FlowMatchEulerDiscreteSchedulerConfig()
        scheduler.shift = 3.0
        scheduler.useDynamicShifting = true
        scheduler.timeShiftType = "exponential"
        return (transformer, textEncoder, vae, scheduler)
    }
}
