/// What stays loaded between the stages of a ``Generator`` (weights are memory-mapped in their
/// stored dtype either way; releasing unmaps them).
public enum ResidencyPolicy: Sendable, Equatable {
    /// The text encoder is released as soon as the prompt is encoded (before the transformer is
    /// loaded); the transformer and VAE stay loaded for every further image, and encoded prompts
    /// are cached, so several seeds load each component once. The default.
    case balanced
    /// `--low-ram`: every component is released as soon as its stage is done (the transformer
    /// before decoding, the VAE after it), so only one is loaded at a time; each image loads
    /// them again.
    case lowMemory
    /// Everything stays loaded until the generator is released (hosts with memory to spare that
    /// encode many different prompts).
    case keepAll
}
