import TensorKit

/// The text a request needs encoded: the prompt, and the negative prompt when the request runs
/// classifier-free guidance (nil otherwise). Encoded prompts are cached by this key.
public struct TextInputs: Sendable, Hashable {
    /// The prompt.
    public let prompt: String
    /// The negative prompt, when guidance uses one.
    public let negativePrompt: String?

    /// Text to encode.
    public init(prompt: String, negativePrompt: String?) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
    }
}

/// What a model family supplies to the shared generation core (``Generator``): how to load each
/// component, encode the text, draw the initial latents, build the schedule, `predict`, and
/// decode. The order of stages, what stays loaded, caching, callbacks and cancellation are the
/// core's.
public protocol GenerationStages: Sendable {
    /// The loaded tokenizer + text encoder.
    associatedtype TextEncoder
    /// Encoded text (prompt embeddings, and negative ones under guidance).
    associatedtype Conditioning
    /// The loaded transformer.
    associatedtype Denoiser
    /// The loaded image decoder (VAE).
    associatedtype Decoder
    /// The per-request `predict` of the loop.
    associatedtype Predictor: NoisePredictor

    /// The folder the components are read from.
    var modelPath: String { get }
    /// The default sampling settings of this folder's model.
    var defaults: GenerationDefaults { get }

    /// Checks a request before anything is loaded.
    func validate(_ request: GenerationRequest) throws(ModelError)
    /// The text `request` needs encoded.
    func textInputs(_ request: GenerationRequest) -> TextInputs

    /// Loads the tokenizer and text encoder.
    func loadTextEncoder() throws(ModelError) -> TextEncoder
    /// Encodes `text`.
    func encode(_ text: TextInputs, with encoder: TextEncoder, context: ComputeContext) throws(ModelError) -> Conditioning
    /// Loads the transformer.
    func loadDenoiser() throws(ModelError) -> Denoiser
    /// Loads the image decoder.
    func loadDecoder() throws(ModelError) -> Decoder

    /// The initial latents of `request` (drawn from its seed exactly as diffusers draws them).
    func initialLatents(_ request: GenerationRequest, context: ComputeContext) throws(ModelError) -> Tensor
    /// The initial latents of an image-to-image `request` (its image encoded with `decoder`'s
    /// VAE and noised to the start of the truncated schedule). Models without image to image
    /// keep the default, which refuses.
    func initialLatents(_ request: GenerationRequest, encodingWith decoder: Decoder, context: ComputeContext) throws(ModelError) -> Tensor
    /// Whether requests may carry an input image (image to image). Default: no.
    var acceptsInputImage: Bool { get }
    /// Whether requests may carry reference images (editing). Default: no.
    var acceptsReferenceImages: Bool { get }
    /// The reference images of `request` as conditioning tokens, encoded with `decoder`'s VAE.
    func referenceTokens(_ request: GenerationRequest, encodingWith decoder: Decoder, context: ComputeContext) throws(ModelError) -> ReferenceTokens
    /// The `predict` of a request with reference tokens (nil: none; the default handles only nil).
    func predictor(_ request: GenerationRequest, conditioning: Conditioning, denoiser: Denoiser,
                   references: ReferenceTokens?) throws(ModelError) -> Predictor
    /// The loop (schedule and start index) for `request`.
    func denoisingLoop(_ request: GenerationRequest) throws(ModelError) -> DenoisingLoop
    /// The `predict` of `request`'s loop.
    func predictor(_ request: GenerationRequest, conditioning: Conditioning, denoiser: Denoiser) throws(ModelError) -> Predictor
    /// Final (or intermediate) latents -> `[H, W, 3]` uint8 pixels; `tileSize` (pixels) decodes in
    /// tiles (``VAETiling``), nil in one piece.
    func decode(_ latents: Tensor, with decoder: Decoder, tileSize: Int?, context: ComputeContext) throws(ModelError) -> Tensor
}

/// A text-to-image model the registry knows: its descriptors (aliases, repository ids,
/// defaults) and how to open a folder.
public protocol TextToImageModel: GenerationStages {
    /// The diffusers pipeline class this model handles (`model_index.json`'s `_class_name`).
    static var pipelineClass: String { get }
    /// The published variants (aliases, Hugging Face repository ids, defaults).
    static var variants: [ModelDescriptor] { get }
    /// The weight components mflux saves, in its write order, with the names mflux gives their
    /// tensors (`mflux save`).
    static var mfluxComponents: [MfluxComponent] { get }
    /// The LoRA adapters of the load options for the transformer, by layer name (nil: none),
    /// read and matched when the folder opens.
    var loraSet: LoRASet? { get }
    /// Opens a pipeline folder: checks `model_index.json` and reads every component's config
    /// (weights are loaded by the stages, with `options`).
    init(modelPath: String, options: LoadOptions) throws(ModelError)
}

extension GenerationStages {
    public var acceptsInputImage: Bool { false }
    public var acceptsReferenceImages: Bool { false }

    public func referenceTokens(_ request: GenerationRequest, encodingWith decoder: Decoder, context: ComputeContext) throws(ModelError) -> ReferenceTokens {
        throw .invalidInput("this model does not take reference images (editing)")
    }

    public func predictor(_ request: GenerationRequest, conditioning: Conditioning, denoiser: Denoiser,
                          references: ReferenceTokens?) throws(ModelError) -> Predictor {
        guard references == nil else { throw .invalidInput("this model does not take reference images (editing)") }
        return try predictor(request, conditioning: conditioning, denoiser: denoiser)
    }

    public func initialLatents(_ request: GenerationRequest, encodingWith decoder: Decoder, context: ComputeContext) throws(ModelError) -> Tensor {
        throw .invalidInput("this model does not take an input image (image to image)")
    }
}

/// A component folder of a model as mflux saves it.
public struct MfluxComponent: Sendable {
    /// Folder name (`vae`, `transformer`, `text_encoder`).
    public let name: String
    /// diffusers ↔ mflux tensor names.
    public let naming: MfluxNaming

    /// The component `name` with `naming`.
    public init(_ name: String, _ naming: MfluxNaming) {
        self.name = name
        self.naming = naming
    }
}

extension TextToImageModel {
    /// Opens a pipeline folder with weights loaded as stored.
    public init(modelPath: String) throws(ModelError) { try self.init(modelPath: modelPath, options: LoadOptions()) }
}
