import Foundation
import Schedulers
import TensorKit

/// FLUX.2 [klein] (diffusers `Flux2KleinPipeline`, 4B and 9B, distilled and base) on the shared
/// generation core: what differs from other models — Qwen3 hidden states of layers 9/18/27 over
/// all 512 positions, noise in the patchified space packed to tokens, `np.linspace` sigmas with
/// the empirical `mu`, ``Flux2Predictor``, and the BatchNorm-denormalised FLUX.2 VAE decode.
/// Distilled folders (`is_distilled`) ignore guidance; base folders run classifier-free guidance
/// when guidance > 1 with the negative prompt (default "").
///
/// ```swift
/// let generator = Generator(model: try Flux2Klein(modelPath: folder))
/// let image = try generator.generate(GenerationRequest(prompt: "a red fox", seed: 42, defaults: generator.defaults),
///                                    context: try ComputeContext())
/// ```
public struct Flux2Klein: TextToImageModel {
    /// The diffusers pipeline class: `Flux2KleinPipeline`.
    public static let pipelineClass = "Flux2KleinPipeline"
    /// Which decoder layers' outputs form the text features (`text_encoder_out_layers`).
    public static let textEncoderOutLayers = Flux2PromptEncoder.hiddenStateLayers

    /// The distilled models' defaults: 4 steps, 1024x1024, guidance ignored.
    public static let distilledDefaults = GenerationDefaults(steps: 4, width: 1024, height: 1024, guidance: 1, usesGuidance: false)
    /// The base models' defaults: 50 steps, 1024x1024, guidance 4.
    public static let baseDefaults = GenerationDefaults(steps: 50, width: 1024, height: 1024, guidance: 4, usesGuidance: true)

    /// The published variants.
    public static let variants = [
        ModelDescriptor(name: "flux2-klein-4b", aliases: ["flux2-klein", "klein-4b"], repoId: "black-forest-labs/FLUX.2-klein-4B",
                        pipelineClass: pipelineClass, family: "Flux2", defaults: distilledDefaults),
        ModelDescriptor(name: "flux2-klein-9b", aliases: ["klein-9b"], repoId: "black-forest-labs/FLUX.2-klein-9B",
                        pipelineClass: pipelineClass, family: "Flux2", defaults: distilledDefaults),
        ModelDescriptor(name: "flux2-klein-base-4b", aliases: ["klein-base-4b", "flux2-base-4b"], repoId: "black-forest-labs/FLUX.2-klein-base-4B",
                        pipelineClass: pipelineClass, family: "Flux2", defaults: baseDefaults),
        ModelDescriptor(name: "flux2-klein-base-9b", aliases: ["klein-base-9b", "flux2-base-9b"], repoId: "black-forest-labs/FLUX.2-klein-base-9B",
                        pipelineClass: pipelineClass, family: "Flux2", defaults: baseDefaults),
    ]

    /// The pipeline folder.
    public let modelPath: String
    /// `model_index.json`'s `is_distilled` (absent: false, diffusers' default).
    public let isDistilled: Bool
    /// The transformer configuration.
    public let transformerConfig: Flux2TransformerConfig
    /// The text encoder configuration.
    public let textEncoderConfig: Qwen3Config
    /// The VAE configuration.
    public let vaeConfig: VAEConfig
    /// The scheduler configuration.
    public let schedulerConfig: FlowMatchEulerDiscreteSchedulerConfig
    /// How the stages load weights (e.g. quantized).
    public let loadOptions: LoadOptions
    /// The LoRA adapters of ``loadOptions`` for the transformer, read and matched when the folder
    /// opens (nil: none).
    public let loraSet: LoRASet?

    /// Distilled: ``distilledDefaults``; base: ``baseDefaults``.
    public var defaults: GenerationDefaults { isDistilled ? Self.distilledDefaults : Self.baseDefaults }

    /// Opens a `Flux2KleinPipeline` folder and reads every component's config; checks that the
    /// text features, the VAE's latent channels and the scheduler fit the transformer.
    public init(modelPath: String, options: LoadOptions) throws(ModelError) {
        self.modelPath = modelPath
        loadOptions = options
        if let saved = MfluxSavedFolder(path: modelPath) {
            isDistilled = !Self.mfluxIsBase(saved)
            (transformerConfig, textEncoderConfig, vaeConfig, schedulerConfig) = try Self.mfluxConfigs(saved)
        } else {
            try ModelIndex.require(modelPath: modelPath, pipelineClass: Self.pipelineClass,
                                   components: ["transformer", "text_encoder", "tokenizer", "vae", "scheduler"])
            isDistilled = try ModelIndex.flag("is_distilled", modelPath: modelPath) ?? false
            transformerConfig = try Flux2TransformerConfig.load(path: modelPath + "/transformer/config.json")
            textEncoderConfig = try Qwen3Config.load(path: modelPath + "/text_encoder/config.json")
            vaeConfig = try VAEConfig.load(path: modelPath + "/vae/config.json", variant: .flux2)
            schedulerConfig = try FlowMatchEulerDiscreteSchedulerConfig.load(modelPath: modelPath)
        }
        let layers = Self.textEncoderOutLayers
        guard textEncoderConfig.numHiddenLayers >= layers.max()! else {
            throw .invalidConfig("\(modelPath): the text encoder has \(textEncoderConfig.numHiddenLayers) layers; klein reads hidden states \(layers)")
        }
        guard transformerConfig.jointAttentionDim == layers.count * textEncoderConfig.hiddenSize else {
            throw .invalidConfig("\(modelPath): transformer joint_attention_dim \(transformerConfig.jointAttentionDim) != \(layers.count) x text encoder hidden_size \(textEncoderConfig.hiddenSize)")
        }
        let patch = vaeConfig.patchSize.reduce(1, *)
        guard vaeConfig.patchSize == [2, 2], transformerConfig.inChannels == vaeConfig.latentChannels * patch else {
            throw .invalidConfig("\(modelPath): transformer in_channels \(transformerConfig.inChannels) != VAE latent_channels \(vaeConfig.latentChannels) x 2x2 patch")
        }
        // Every checkpoint header and the LoRA files are checked now: a bad file fails before
        // anything loads.
        try WeightLoader.preflight(modelPath: modelPath, components: ["text_encoder", "vae"])
        let transformer = try WeightLoader(folder: modelPath + "/transformer", component: "transformer", naming: Flux2Transformer2DModel.mfluxNaming)
        let t = transformerConfig
        try transformer.expect([("x_embedder.weight", [t.innerDim, t.inChannels]), ("proj_out.weight", [t.outputChannels, t.innerDim]),
                                ("context_embedder.weight", [t.innerDim, t.jointAttentionDim])])
        loraSet = try LoRASet.load(options.loras) { [t] file, ctx throws(ModelError) in try Self.loraLayers(file, config: t, context: ctx) }
        try loraSet?.check(against: transformer.linearModules())
        guard schedulerConfig.useDynamicShifting else {
            throw .invalidConfig("\(modelPath): the klein pipeline needs use_dynamic_shifting in the scheduler config")
        }
    }

    /// The encoded prompt (and negative prompt under guidance).
    public typealias Conditioning = TextConditioning

    /// Whether `request` runs classifier-free guidance: a base model with guidance > 1.
    public func usesGuidance(_ request: GenerationRequest) -> Bool { !isDistilled && request.guidance > 1 }

    public func validate(_ request: GenerationRequest) throws(ModelError) {
        for (i, image) in request.referenceImages.enumerated() { try Flux2ReferenceImages.check(image, index: i) }
        try request.validate(sizeMultiple: vaeConfig.scaleFactor * 2)
    }

    public func textInputs(_ request: GenerationRequest) -> TextInputs {
        TextInputs(prompt: request.prompt, negativePrompt: usesGuidance(request) ? (request.negativePrompt ?? "") : nil)
    }

    public func loadTextEncoder() throws(ModelError) -> Flux2PromptEncoder {
        try Flux2PromptEncoder(modelPath: modelPath, config: textEncoderConfig, quantization: loadOptions.quantization)
    }

    public func encode(_ text: TextInputs, with encoder: Flux2PromptEncoder, context ctx: ComputeContext) throws(ModelError) -> Conditioning {
        try TextConditioning(text, encoder: encoder, context: ctx)
    }

    public func loadDenoiser() throws(ModelError) -> Flux2Transformer2DModel {
        try Flux2Transformer2DModel(folder: modelPath + "/transformer", config: transformerConfig, quantization: loadOptions.quantization,
                                    loras: loraSet)
    }

    public func loadDecoder() throws(ModelError) -> AutoencoderKL {
        try AutoencoderKL(folder: modelPath + "/vae", variant: .flux2, config: vaeConfig, quantization: loadOptions.quantization)
    }

    /// `[1, 128, H/16, W/16]` noise in the patchified space.
    public func noiseShape(_ request: GenerationRequest) -> [Int] {
        Flux2Latents.noiseShape(height: request.height, width: request.width, latentChannels: vaeConfig.latentChannels,
                                vaeScaleFactor: vaeConfig.scaleFactor)
    }

    /// Noise drawn from the seed in `[1, 128, H/16, W/16]`, packed to the token grid `[1, H/16, W/16, 128]`.
    public func initialLatents(_ request: GenerationRequest, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        var generator = TorchGenerator(seed: request.seed)
        return Flux2Latents.pack(generator.randn(noiseShape(request)))
    }

    public func denoisingLoop(_ request: GenerationRequest) throws(ModelError) -> DenoisingLoop {
        let shape = noiseShape(request)
        return try Flux2Schedule.loop(config: schedulerConfig, steps: request.steps, imageSeqLen: shape[2] * shape[3])
    }

    public func predictor(_ request: GenerationRequest, conditioning: Conditioning, denoiser: Flux2Transformer2DModel) throws(ModelError) -> Flux2Predictor {
        try predictor(request, conditioning: conditioning, denoiser: denoiser, references: nil)
    }

    /// klein takes reference images (editing, ``Flux2ReferenceImages``).
    public var acceptsReferenceImages: Bool { true }

    public func referenceTokens(_ request: GenerationRequest, encodingWith vae: AutoencoderKL, context ctx: ComputeContext) throws(ModelError) -> ReferenceTokens {
        try Flux2ReferenceImages.tokens(request.referenceImages, vae: vae, context: ctx)
    }

    public func predictor(_ request: GenerationRequest, conditioning: Conditioning, denoiser: Flux2Transformer2DModel,
                          references: ReferenceTokens?) throws(ModelError) -> Flux2Predictor {
        let shape = noiseShape(request)
        return Flux2Predictor(transformer: denoiser, prompt: conditioning.prompt, negative: usesGuidance(request) ? conditioning.negative : nil,
                              guidance: request.guidance, tokenHeight: shape[2], tokenWidth: shape[3], references: references)
    }

    /// The token grid `[1, h, w, 128]` -> pixels `[8·2h, 8·2w, 3]`: unpack, BatchNorm
    /// de-normalisation, unpatchify, VAE decode, post-processing.
    public func decode(_ latents: Tensor, with vae: AutoencoderKL, tileSize: Int?, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let z = try Flux2Latents.vaeInput(latents, vae: vae, context: ctx)
        return VAEImageProcessor.pixels(try vae.decode(z, tileSize: tileSize, context: ctx), context: ctx)
    }
}
