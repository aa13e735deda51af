import Schedulers

extension ZImageTurbo {
    /// The components mflux saves for Z-Image (its write order) and their names.
    public static let mfluxComponents = [MfluxComponent("vae", VAEVariant.flux1.mfluxNaming),
                                         MfluxComponent("transformer", ZImageTransformer2DModel.mfluxNaming),
                                         MfluxComponent("text_encoder", Qwen3TextEncoder.mfluxNaming)]

    /// Whether an mflux-saved transformer (under diffusers names) is Z-Image's.
    static func isMfluxTransformer(_ source: MfluxFormatSource) -> Bool {
        source.info("x_pad_token") != nil && source.info("cap_pad_token") != nil
    }

    /// The configurations of a folder saved by mflux: `config.json` files when present, else
    /// Z-Image-Turbo's published values with every size read from the stored tensors; the
    /// scheduler is Z-Image-Turbo's (static shift 3).
    static func mfluxConfigs(_ saved: MfluxSavedFolder) throws(ModelError)
        -> (ZImageTransformerConfig, Qwen3Config, VAEConfig, FlowMatchEulerDiscreteSchedulerConfig) {
        let transformer: ZImageTransformerConfig
        if let p = saved.configPath("transformer") {
            transformer = try ZImageTransformerConfig.load(path: p)
        } else {
            let s = StoredShapes(source: try saved.component("transformer", naming: ZImageTransformer2DModel.mfluxNaming), component: "transformer")
            var c = ZImageTransformerConfig()
            c.dim = try s.size("x_pad_token", 1)
            c.nLayers = s.count("layers")
            c.nRefinerLayers = s.count("noise_refiner")
            c.nHeads = c.dim / (try s.size("layers.0.attention.norm_q.weight", 0))
            c.nKvHeads = c.nHeads
            c.capFeatDim = try s.size("cap_embedder.0.weight", 0)
            let (p, f) = ZImageTransformerConfig.pipelinePatch
            c.inChannels = try s.size("all_final_layer.\(p)-\(f).linear.weight", 0) / (p * p * f)
            try c.validate(path: saved.path + "/transformer")
            transformer = c
        }
        let textEncoder = try saved.textEncoderConfig()
        let vae = try saved.vaeConfig(.flux1)
        var scheduler = FlowMatchEulerDiscreteSchedulerConfig()
        scheduler.shift = 3.0
        scheduler.useDynamicShifting = false
        return (transformer, textEncoder, vae, scheduler)
    }
}
