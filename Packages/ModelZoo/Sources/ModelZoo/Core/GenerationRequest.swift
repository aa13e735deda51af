import ImageIO

/// One image to generate: the text, the seed and the sampling settings.
public struct GenerationRequest: Sendable, Equatable {
    /// The prompt.
    public var prompt: String
    /// The negative prompt for classifier-free guidance (nil: the model's default, "").
    public var negativePrompt: String?
    /// Seed of the initial noise (diffusers' `torch.Generator("cpu").manual_seed(seed)`).
    public var seed: UInt64
    /// Denoising steps (`num_inference_steps`).
    public var steps: Int
    /// Image size in pixels.
    public var width: Int, height: Int
    /// Guidance scale (`guidance_scale`); what it does is the model's rule (Z-Image: CFG when > 0).
    public var guidance: Float
    /// Image to image: the input picture (any size; resized to `width` x `height` as diffusers
    /// resizes it), or nil for text to image.
    public var image: RGBImage?
    /// Image to image: diffusers' `strength` in (0, 1], how much of the schedule runs (1: from pure
    /// noise; mflux's `--image-strength` is `1 - strength`).
    public var strength: Double
    /// Editing: reference images (FLUX.2-klein), in order; empty for none.
    public var referenceImages: [RGBImage]

    /// A request; see the properties.
    public init(prompt: String, negativePrompt: String? = nil, seed: UInt64, steps: Int, width: Int, height: Int, guidance: Float = 0,
                image: RGBImage? = nil, strength: Double = 0.6, referenceImages: [RGBImage] = []) {
        self.image = image
        self.referenceImages = referenceImages
        self.strength = strength
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.seed = seed
        self.steps = steps
        self.width = width
        self.height = height
        self.guidance = guidance
    }

    /// A request with `defaults` for the sampling settings.
    public init(prompt: String, negativePrompt: String? = nil, seed: UInt64, defaults: GenerationDefaults) {
        self.init(prompt: prompt, negativePrompt: negativePrompt, seed: seed, steps: defaults.steps,
                  width: defaults.width, height: defaults.height, guidance: defaults.guidance)
    }

    /// Checks what holds for every model: a non-empty prompt, at least one step, a positive size
    /// that is a multiple of `sizeMultiple`, at most 8192 pixels a side, a finite guidance >= 0.
    public func validate(sizeMultiple: Int) throws(ModelError) {
        guard !prompt.allSatisfy(\.isWhitespace) else { throw .invalidInput("the prompt is empty") }
        guard steps >= 1 else { throw .invalidInput("steps must be at least 1, got \(steps)") }
        guard width > 0, height > 0, width % sizeMultiple == 0, height % sizeMultiple == 0 else {
            throw .invalidInput("width and height must be positive multiples of \(sizeMultiple), got \(width)x\(height)")
        }
        guard width <= 8192, height <= 8192 else { throw .invalidInput("width and height must be at most 8192, got \(width)x\(height)") }
        guard guidance.isFinite, guidance >= 0 else { throw .invalidInput("guidance must be a finite number >= 0, got \(guidance)") }
        if image != nil {
            guard strength.isFinite, strength >= 0, strength <= 1 else {
                throw .invalidInput("the image strength must be in [0, 1], got \(strength)")
            }
            guard Self.imageStartIndex(steps: steps, strength: strength) < steps else {
                throw .invalidInput("strength \(strength) leaves none of the \(steps) steps to run (keep less of the image, or use more steps)")
            }
        }
    }

    /// The first step run for `strength` of `steps` (diffusers' `get_timesteps`:
    /// `t_start = int(max(N - min(N·strength, N), 0))`, in double precision as Python computes it).
    public static func imageStartIndex(steps: Int, strength: Double) -> Int {
        let n = Double(steps)
        return Int(max(n - min(n * strength, n), 0))
    }

    /// Where the loop starts: 0 for text to image, else ``imageStartIndex(steps:strength:)``.
    public var startIndex: Int { image == nil ? 0 : Self.imageStartIndex(steps: steps, strength: strength) }
}

/// A model's default sampling settings.
public struct GenerationDefaults: Sendable, Equatable {
    /// Denoising steps.
    public var steps: Int
    /// Image size in pixels.
    public var width: Int, height: Int
    /// Guidance scale.
    public var guidance: Float
    /// Whether the guidance scale changes anything for this model (distilled models ignore it).
    public var usesGuidance: Bool

    /// Defaults; see the properties.
    public init(steps: Int, width: Int, height: Int, guidance: Float, usesGuidance: Bool) {
        self.steps = steps
        self.width = width
        self.height = height
        self.guidance = guidance
        self.usesGuidance = usesGuidance
    }
}
