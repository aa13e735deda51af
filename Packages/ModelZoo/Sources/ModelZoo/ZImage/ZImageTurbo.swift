import Foundation
import Schedulers
import TensorKit

/// Z-Image-Turbo (diffusers `ZImagePipeline`) on the shared generation core: what differs from
/// other models — Qwen3's `hidden_states[-2]` of the real tokens, 16-channel noise at H/8 x W/8,
/// `linspace(1, 1/N, N)` sigmas with a static shift, ``ZImagePredictor``, and the FLUX.1 VAE
/// decode. Opening a folder reads the configs only; a ``Generator`` loads the weights
/// (memory-mapped, stored dtype).
///
/// ```swift
/// let generator = Generator(model: try ZImageTurbo(modelPath: folder))
/// let image = try generator.generate(GenerationRequest(prompt: "a red fox", seed: 42, defaults: generator.defaults),
///                                    context: try ComputeContext())
/// // image.pixels: [H, W, 3] uint8
/// ```
public struct ZImageTurbo: TextToImageModel {
    /// The diffusers pipeline class: `ZImagePipeline`.
    public static let pipelineClass = "ZImagePipeline"

    /// Z-Image-Turbo's defaults: 9 steps, 1024x1024, no guidance (guidance > 0 runs diffusers' CFG).
    public static let turboDefaults = GenerationDefaults(steps: 9, width: 1024, height: 1024, guidance: 0, usesGuidance: true)

    /// The bundled demo model's defaults: 128x128, 8 steps, no guidance (as it was trained).
    public static let demoDefaults = GenerationDefaults(steps: 8, width: 128, height: 128, guidance: 0, usesGuidance: true)

    /// The published variant (Tongyi-MAI/Z-Image-Turbo) and the small demo model trained for this
    /// repository (Models/zimage-demo: flat-colour shapes, see its README).
    public static let variants = [
        ModelDescriptor(name: "z-image-turbo", aliases: ["zimage-turbo", "z-image"], repoId: "Tongyi-MAI/Z-Image-Turbo",
                        pipelineClass: pipelineClass, family: "ZImage", defaults: turboDefaults),
        ModelDescriptor(name: "demo", aliases: ["zimage-demo"], source: .bundled(path: "Models/zimage-demo"),
                        pipelineClass: pipelineClass, family: "ZImage", defaults: demoDefaults),
    ]

    /// The pipeline folder.
    public let modelPath: String
    /// The transformer configuration.
    public let transformerConfig: ZImageTransformerConfig
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

    /// Z-Image-Turbo's defaults (``turboDefaults``) for every Z-Image folder.
    public var defaults: GenerationDefaults { Self.turboDefaults }

    /// Opens a `ZImagePipeline` folder (or a folder saved by mflux, ``MfluxSavedFolder``) and
    /// reads every component's config; checks that the text
    /// encoder's width and the VAE's latent channels fit the transformer.
    public init(modelPath: String, options: LoadOptions) throws(ModelError) {
        self.modelPath = modelPath
        loadOptions = options
        if let saved = MfluxSavedFolder(path: modelPath) {
            (transformerConfig, textEncoderConfig, vaeConfig, schedulerConfig) = try Self.mfluxConfigs(saved)
        } else {
            try ModelIndex.require(modelPath: modelPath, pipelineClass: Self.pipelineClass,
                                   components: ["transformer", "text_encoder", "tokenizer", "vae", "scheduler"])
            transformerConfig = try ZImageTransformerConfig.load(path: modelPath + "/transformer/config.json")
            textEncoderConfig = try Qwen3Config.load(path: modelPath + "/text_encoder/config.json")
            vaeConfig = try VAEConfig.load(path: modelPath + "/vae/config.json", variant: .flux1)
            schedulerConfig = try FlowMatchEulerDiscreteSchedulerConfig.load(modelPath: modelPath)
        }
        guard transformerConfig.capFeatDim == textEncoderConfig.hiddenSize else {
            throw .invalidConfig("\(modelPath): transformer cap_feat_dim \(transformerConfig.capFeatDim) != text encoder hidden_size \(textEncoderConfig.hiddenSize)")
        }
        // Every checkpoint header and the LoRA files are checked now: a bad file fails before
        // anything loads.
        try WeightLoader.preflight(modelPath: modelPath, components: ["text_encoder", "vae"])
        let transformer = try WeightLoader(folder: modelPath + "/transformer", component: "transformer", naming: ZImageTransformer2DModel.mfluxNaming)
        let t = transformerConfig
        try transformer.expect([("x_pad_token", [1, t.dim]), ("cap_embedder.0.weight", [t.capFeatDim]),
                                ("layers.\(t.nLayers - 1).attention.to_q.weight", [t.dim, t.dim])])
        let modules = transformer.linearModules()
        loraSet = try LoRASet.load(options.loras) { file, ctx throws(ModelError) in try Self.loraLayers(file, modules: modules, context: ctx) }
        try loraSet?.check(against: modules)
        guard vaeConfig.latentChannels == transformerConfig.inChannels else {
            throw .invalidConfig("\(modelPath): VAE latent_channels \(vaeConfig.latentChannels) != transformer in_channels \(transformerConfig.inChannels)")
        }
    }

    /// The encoded prompt (and negative prompt under guidance).
    public typealias Conditioning = TextConditioning

    public func validate(_ request: GenerationRequest) throws(ModelError) {
        try request.validate(sizeMultiple: vaeConfig.scaleFactor * 2)
    }

    /// Guidance > 0 runs classifier-free guidance with the negative prompt (default "").
    public func textInputs(_ request: GenerationRequest) -> TextInputs {
        TextInputs(prompt: request.prompt, negativePrompt: request.guidance > 0 ? (request.negativePrompt ?? "") : nil)
    }

    public func loadTextEncoder() throws(ModelError) -> ZImagePromptEncoder {
        try ZImagePromptEncoder(modelPath: modelPath, config: textEncoderConfig, quantization: loadOptions.quantization)
    }

    public func encode(_ text: TextInputs, with encoder: ZImagePromptEncoder, context ctx: ComputeContext) throws(ModelError) -> Conditioning {
        try TextConditioning(text, encoder: encoder, context: ctx)
    }

    public func loadDenoiser() throws(ModelError) -> ZImageTransformer2DModel {
        try ZImageTransformer2DModel(folder: modelPath + "/transformer", config: transformerConfig, quantization: loadOptions.quantization,
                                     loras: loraSet)
    }

    public func loadDecoder() throws(ModelError) -> ZImageImageDecoder {
        ZImageImageDecoder(vae: try AutoencoderKL(folder: modelPath + "/vae", variant: .flux1, config: vaeConfig, quantization: loadOptions.quantization))
    }

    /// `[1, 16, H/8, W/8]` noise from the seed, as `prepare_latents` draws it.
    public func initialLatents(_ request: GenerationRequest, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        var generator = TorchGenerator(seed: request.seed)
        return generator.randn(latentShape(request))
    }

    /// Z-Image takes an input image (image to image).
    public var acceptsInputImage: Bool { true }

    /// Image to image as `ZImageImg2ImgPipeline`: the input resized to the request's size
    /// (``VAEImageProcessor/preprocess(_:width:height:)``), encoded and SAMPLED from the VAE's
    /// posterior with the seed's generator (its first draw), `(z - shift) · scaling`, then the
    /// noise (the generator's second draw) mixed in at the start sigma:
    /// `σ·noise + (1 − σ)·latents` (`scale_noise`).
    public func initialLatents(_ request: GenerationRequest, encodingWith decoder: ZImageImageDecoder, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        guard let image = request.image else { return try initialLatents(request, context: ctx) }
        let x = try VAEImageProcessor.preprocess(image, width: request.width, height: request.height)
        var generator = TorchGenerator(seed: request.seed)
        let raw = try decoder.vae.encodeSample(x, generator: &generator, context: ctx)
        let shift = Float(vaeConfig.shiftFactor ?? 0), scaling = Float(vaeConfig.scalingFactor ?? 1)
        let latents = raw.floats(context: ctx).map { ($0 - shift) * scaling }
        let noise = generator.randn(latentShape(request)).floats(context: ctx)
        let loop = try denoisingLoop(request)
        let sigma = loop.sigmas[loop.startIndex]
        var out = [Float](repeating: 0, count: noise.count)
        for i in 0..<out.count { out[i] = sigma * noise[i] + (1 - sigma) * latents[i] }
        return Tensor(shape: latentShape(request), floats: out)
    }

    /// The latent shape `[1, 16, H/8, W/8]` of a request.
    public func latentShape(_ request: GenerationRequest) -> [Int] {
        ZImageLatents.noiseShape(height: request.height, width: request.width, channels: transformerConfig.inChannels,
                                 vaeScaleFactor: vaeConfig.scaleFactor)
    }

    public func denoisingLoop(_ request: GenerationRequest) throws(ModelError) -> DenoisingLoop {
        let shape = latentShape(request)
        return try ZImageSchedule.loop(config: schedulerConfig, steps: request.steps, imageSeqLen: (shape[2] / 2) * (shape[3] / 2),
                                       startIndex: request.startIndex)
    }

    public func predictor(_ request: GenerationRequest, conditioning: Conditioning, denoiser: ZImageTransformer2DModel) throws(ModelError) -> ZImagePredictor {
        try ZImagePredictor(transformer: denoiser, prompt: conditioning.prompt, negative: conditioning.negative,
                            guidance: ZImageGuidance(scale: request.guidance), latentShape: latentShape(request))
    }

    public func decode(_ latents: Tensor, with decoder: ZImageImageDecoder, tileSize: Int?, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        VAEImageProcessor.pixels(try decoder.decode(latents, tileSize: tileSize, context: ctx), context: ctx)
    }
}
