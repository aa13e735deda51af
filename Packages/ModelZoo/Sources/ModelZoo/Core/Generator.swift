import CallbackManager
import ImageIO
import TensorKit

/// A model's generation run, for any number of requests: encode the prompt -> load the
/// transformer -> denoise once per seed -> decode, with components loaded and released as
/// ``ResidencyPolicy`` says, encoded prompts cached, the callbacks told about every stage, and
/// cancellation checked between stages and steps.
///
/// ```swift
/// let generator = Generator(model: try ZImageTurbo(modelPath: folder))
/// for seed in [1, 2, 3] {   // the transformer and VAE are loaded once
///     let image = try generator.generate(GenerationRequest(prompt: "a fox", seed: seed, defaults: generator.defaults), context: ctx)
/// }
/// ```
public final class Generator<Model: GenerationStages>: ImageGenerating {
    /// The model.
    public let model: Model
    /// What stays loaded.
    public let residency: ResidencyPolicy
    /// The run's callbacks and cancellation token.
    public let callbacks: CallbackManager

    private var textEncoder: Model.TextEncoder?
    private var denoiser: Model.Denoiser?
    private var decoder: Model.Decoder?
    private var encoded: [TextInputs: Model.Conditioning] = [:]
    private var encodedOrder: [TextInputs] = []
    /// Encoded prompts kept (the oldest is dropped first).
    static var promptCacheSize: Int { 16 }

    /// A generator for `model`.
    public init(model: Model, residency: ResidencyPolicy = .balanced, callbacks: CallbackManager = CallbackManager()) {
        self.model = model
        self.residency = residency
        self.callbacks = callbacks
    }

    /// The model's default sampling settings.
    public var defaults: GenerationDefaults { model.defaults }
    /// The model's folder.
    public var modelPath: String { model.modelPath }

    /// The components loaded now ("text_encoder", "transformer", "vae").
    public var loadedComponents: [String] {
        (textEncoder == nil ? [] : ["text_encoder"]) + (denoiser == nil ? [] : ["transformer"]) + (decoder == nil ? [] : ["vae"])
    }

    /// Generates one image. `imageIndex`/`imageCount` tell the callbacks where it stands in a run.
    public func generate(_ request: GenerationRequest, imageIndex: Int = 0, imageCount: Int = 1,
                         context ctx: ComputeContext) throws(ModelError) -> GeneratedImage {
        if request.image != nil, !model.acceptsInputImage {
            throw .invalidInput("this model does not take an input image (image to image)")
        }
        if !request.referenceImages.isEmpty, !model.acceptsReferenceImages {
            throw .invalidInput("this model does not take reference images (editing)")
        }
        try model.validate(request)
        var timings: [String: Double] = [:]
        try checkCancellation("before encoding the prompt")
        // 1. Text (cached per prompt), then the encoder goes unless everything stays.
        let (conditioning, encodeSeconds) = try encode(model.textInputs(request), context: ctx)
        timings["encode"] = encodeSeconds
        try checkCancellation("after encoding the prompt")
        // 2. Denoise with the transformer (the VAE too when callbacks preview steps).
        let tileSize = VAETiling.tileSize(width: request.width, height: request.height, lowMemory: residency == .lowMemory)
        let latents: Tensor, sigmas: [Float]
        do throws(ModelError) {
            let seconds: Double
            (latents, sigmas, seconds) = try denoise(request, conditioning: conditioning, imageIndex: imageIndex,
                                                     imageCount: imageCount, tileSize: tileSize, context: ctx)
            timings["denoise"] = seconds
        } catch {
            if residency == .lowMemory { releaseAll() }
            throw error
        }
        // No reference to the transformer outlives `denoise`: releasing it here unmaps its weights.
        if residency == .lowMemory || (residency == .singleRun && imageIndex == imageCount - 1) { release(&denoiser, "transformer") }
        try checkCancellation("after denoising")
        // 3. Decode.
        let vae = try load(&decoder, "vae") { () throws(ModelError) in try model.loadDecoder() }
        let decodeClock = Clock()
        let pixels = try model.decode(latents, with: vae, tileSize: tileSize, context: ctx)
        timings["decode"] = decodeClock.seconds
        callbacks.stage(.decoded(imageIndex: imageIndex, seconds: decodeClock.seconds))
        if residency == .lowMemory { release(&decoder, "vae") }
        // A stop asked for while decoding: no image is handed out (nothing gets written).
        try checkCancellation("while decoding")
        return GeneratedImage(request: request, pixels: pixels, latents: latents, sigmas: sigmas, timings: timings)
    }

    /// Loads the transformer (and the VAE when the callbacks preview steps or the request has
    /// images to encode) and runs the denoising loop; returns the final latents, the sigmas and the
    /// loop's seconds. Every reference to the transformer ends with this call.
    private func denoise(_ request: GenerationRequest, conditioning: Model.Conditioning, imageIndex: Int, imageCount: Int,
                         tileSize: Int?, context ctx: ComputeContext) throws(ModelError) -> (Tensor, [Float], Double) {
        let transformer = try load(&denoiser, "transformer") { () throws(ModelError) in try model.loadDenoiser() }
        if callbacks.needsDecoder { _ = try load(&decoder, "vae") { () throws(ModelError) in try model.loadDecoder() } }
        let loop = try model.denoisingLoop(request)
        var references: ReferenceTokens?
        if !request.referenceImages.isEmpty {
            // Editing: the VAE encodes the reference images once for every step.
            let vae = try load(&decoder, "vae") { () throws(ModelError) in try model.loadDecoder() }
            references = try model.referenceTokens(request, encodingWith: vae, context: ctx)
        }
        let predictor = try model.predictor(request, conditioning: conditioning, denoiser: transformer, references: references)
        let initial: Tensor
        if request.image != nil {
            // Image to image: the VAE encodes the input first.
            let vae = try load(&decoder, "vae") { () throws(ModelError) in try model.loadDecoder() }
            initial = try model.initialLatents(request, encodingWith: vae, context: ctx)
        } else {
            initial = try model.initialLatents(request, context: ctx)
        }
        let info = LoopInfo(seed: request.seed, prompt: request.prompt, width: request.width, height: request.height,
                            sigmas: loop.sigmas, startIndex: loop.startIndex, imageIndex: imageIndex, imageCount: imageCount)
        if let vae = decoder {
            callbacks.decoder = { [model] latents in
                try RGBImage(tensor: try model.decode(latents, with: vae, tileSize: tileSize, context: ctx), channelsLast: true)
            }
        }
        defer { callbacks.decoder = nil }
        let clock = Clock()
        let latents = try loop.run(latents: initial, predictor: predictor, info: info, callbacks: callbacks, context: ctx)
        return (latents, loop.sigmas, clock.seconds)
    }

    /// The encoded text of `request` (loading the text encoder when it is not cached; released
    /// afterwards unless the policy keeps everything).
    public func conditioning(for request: GenerationRequest, context ctx: ComputeContext) throws(ModelError) -> Model.Conditioning {
        try encode(model.textInputs(request), context: ctx).0
    }

    /// `text` encoded, from the cache or by the text encoder, and the seconds that took.
    private func encode(_ text: TextInputs, context ctx: ComputeContext) throws(ModelError) -> (Model.Conditioning, Double) {
        if let cached = encoded[text] { return (cached, 0) }
        let encoder = try load(&textEncoder, "text_encoder") { () throws(ModelError) in try model.loadTextEncoder() }
        let clock = Clock()
        let c = try model.encode(text, with: encoder, context: ctx)
        callbacks.stage(.promptEncoded(seconds: clock.seconds))
        encoded[text] = c
        encodedOrder.append(text)
        if encodedOrder.count > Self.promptCacheSize { encoded[encodedOrder.removeFirst()] = nil }
        if residency != .keepAll { release(&textEncoder, "text_encoder") }
        return (c, clock.seconds)
    }

    /// Releases every loaded component and the cached prompts.
    public func releaseAll() {
        release(&textEncoder, "text_encoder")
        release(&denoiser, "transformer")
        release(&decoder, "vae")
        encoded = [:]
        encodedOrder = []
    }

    private func load<T>(_ slot: inout T?, _ name: String, _ make: () throws(ModelError) -> T) throws(ModelError) -> T {
        if let loaded = slot { return loaded }
        let clock = Clock()
        let value = try make()
        slot = value
        callbacks.stage(.loaded(component: name, seconds: clock.seconds))
        return value
    }

    private func release<T>(_ slot: inout T?, _ name: String) {
        guard slot != nil else { return }
        slot = nil
        // Activation blocks kept for reuse were sized for the released component.
        LargeBlockCache.shared.releaseCached()
        callbacks.stage(.released(component: name))
    }

    private func checkCancellation(_ stage: String) throws(ModelError) {
        try ModelError.checkCancellation(callbacks, stage)
    }
}

/// A generator of any model, as the registry hands it out.
public protocol ImageGenerating: AnyObject {
    /// The default sampling settings of the loaded model.
    var defaults: GenerationDefaults { get }
    /// The folder the model is read from.
    var modelPath: String { get }
    /// The run's callbacks and cancellation token.
    var callbacks: CallbackManager { get }
    /// Generates one image (see ``Generator/generate(_:imageIndex:imageCount:context:)``).
    func generate(_ request: GenerationRequest, imageIndex: Int, imageCount: Int, context: ComputeContext) throws(ModelError) -> GeneratedImage
    /// Releases every loaded component.
    func releaseAll()
}

/// Monotonic elapsed seconds.
struct Clock {
    private let start = ContinuousClock.now
    var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
