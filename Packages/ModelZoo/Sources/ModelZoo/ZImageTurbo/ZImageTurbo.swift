import Foundation
import Schedulers
import TensorKit

/// Z-Image-Turbo text-to-image, as `ZImagePipeline` (diffusers 0.42.1) computes it, from a
/// diffusers folder. Components are loaded one at a time and released after use, so the peak
/// memory is the text encoder or the transformer, not both (weights are memory-mapped in their
/// stored dtype).
///
/// ```swift
/// let model = try ZImageTurbo(modelPath: "/path/to/Z-Image-Turbo")
/// let result = try model.generate(prompt: "a cat", seed: 42, steps: 9, width: 1024, height: 1024)
/// // result.pixels: [H, W, 3] uint8
/// ```
public struct ZImageTurbo: Sendable {
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

    /// Z-Image-Turbo's defaults: 9 steps, no guidance, 1024x1024.
    public static let defaultSteps = 9, defaultSize = 1024

    /// Checks that `modelPath` is a `ZImagePipeline` folder and reads every component's config
    /// (weights are loaded when needed).
    public init(modelPath: String) throws(ModelError) {
        self.modelPath = modelPath
        try ModelIndex.require(modelPath: modelPath, pipelineClass: "ZImagePipeline",
                               components: ["transformer", "text_encoder", "tokenizer", "vae", "scheduler"])
        transformerConfig = try ZImageTransformerConfig.load(path: modelPath + "/transformer/config.json")
        textEncoderConfig = try Qwen3Config.load(path: modelPath + "/text_encoder/config.json")
        vaeConfig = try VAEConfig.load(path: modelPath + "/vae/config.json", variant: .flux1)
        do {
            schedulerConfig = try FlowMatchEulerDiscreteSchedulerConfig.load(path: modelPath + "/scheduler/scheduler_config.json")
        } catch {
            throw .invalidConfig(error.description)
        }
        guard transformerConfig.capFeatDim == textEncoderConfig.hiddenSize else {
            throw .invalidConfig("\(modelPath): transformer cap_feat_dim \(transformerConfig.capFeatDim) != text encoder hidden_size \(textEncoderConfig.hiddenSize)")
        }
        guard vaeConfig.latentChannels == transformerConfig.inChannels else {
            throw .invalidConfig("\(modelPath): VAE latent_channels \(vaeConfig.latentChannels) != transformer in_channels \(transformerConfig.inChannels)")
        }
    }

    /// What `generate` reports while it runs.
    public enum Progress: Sendable {
        /// The prompt (and negative prompt) are encoded; the text encoder is released.
        case promptEncoded
        /// The transformer is loaded; denoising starts (`steps` steps).
        case denoisingStarted(steps: Int)
        /// Step `index` (0-based) of `total` is done.
        case step(index: Int, total: Int)
        /// The image is decoded.
        case decoded
    }

    /// The output of ``generate(prompt:negativePrompt:seed:steps:width:height:guidance:context:progress:)``.
    public struct Result: Sendable {
        /// `[H, W, 3]` uint8 pixels.
        public let pixels: Tensor
        /// `[1, 16, H/8, W/8]` final latents (unscaled).
        public let latents: Tensor
    }

    /// Generates an image. `seed` reproduces diffusers' `torch.Generator("cpu").manual_seed(seed)`
    /// noise; width and height must be positive multiples of 16; guidance > 0 enables
    /// classifier-free guidance with `negativePrompt`.
    public func generate(prompt: String, negativePrompt: String = "", seed: UInt64, steps: Int = defaultSteps,
                         width: Int = defaultSize, height: Int = defaultSize, guidance: ZImageGuidance = .none,
                         context ctx: ComputeContext, progress: ((Progress) -> Void)? = nil) throws(ModelError) -> Result {
        guard !prompt.isEmpty else { throw .invalidInput("the prompt is empty") }
        guard steps >= 1 else { throw .invalidInput("steps must be at least 1, got \(steps)") }
        try ZImageLatents.validate(height: height, width: width, vaeScaleFactor: vaeConfig.scaleFactor)
        // 1. Text: load the encoder, encode, release it (its mappings with it) before the transformer.
        let (prompt, negative) = try encodePrompts(prompt, negativePrompt: guidance.scale > 0 ? negativePrompt : nil, context: ctx)
        progress?(.promptEncoded)
        // 2. Noise, as diffusers draws it.
        var generator = TorchGenerator(seed: seed)
        let noise = generator.randn(ZImageLatents.noiseShape(height: height, width: width, channels: transformerConfig.inChannels,
                                                              vaeScaleFactor: vaeConfig.scaleFactor))
        // 3. Denoise with the transformer, then release it.
        let latents = try denoise(noise: noise, prompt: prompt, negative: negative, steps: steps, guidance: guidance,
                                  context: ctx, progress: progress)
        // 4. Decode.
        let decoder = ZImageImageDecoder(vae: try AutoencoderKL(folder: modelPath + "/vae", variant: .flux1, config: vaeConfig))
        let image = try decoder.decode(latents, context: ctx)
        progress?(.decoded)
        return Result(pixels: ZImageImageDecoder.pixels(image, context: ctx), latents: latents)
    }

    /// Encodes the prompt (and the negative prompt when given) with a text encoder that lives
    /// only inside this call.
    public func encodePrompts(_ prompt: String, negativePrompt: String?, context ctx: ComputeContext) throws(ModelError) -> (Tensor, Tensor?) {
        let encoder = try ZImagePromptEncoder(modelPath: modelPath, config: textEncoderConfig)
        let p = try encoder.encode(prompt, context: ctx)
        let n = try negativePrompt.map { (s: String) throws(ModelError) -> Tensor in try encoder.encode(s, context: ctx) }
        return (p, n)
    }

    func denoise(noise: Tensor, prompt: Tensor, negative: Tensor?, steps: Int, guidance: ZImageGuidance,
                 context ctx: ComputeContext, progress: ((Progress) -> Void)?) throws(ModelError) -> Tensor {
        let denoiser = ZImageDenoiser(transformer: try ZImageTransformer2DModel(folder: modelPath + "/transformer", config: transformerConfig),
                                      schedulerConfig: schedulerConfig)
        progress?(.denoisingStarted(steps: steps))
        return try denoiser.denoise(noise: noise, prompt: prompt, negative: negative, steps: steps, guidance: guidance,
                                    context: ctx) { i, _ in progress?(.step(index: i, total: steps)) }
    }
}
