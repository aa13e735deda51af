/// What stays loaded between the stages of a ``Generator`` (weights are memory-mapped in their
/// stored dtype either way; releasing unmaps them).
public enum ResidencyPolicy: Sendable, Equatable {
    /// The text encoder is released as soon as the prompt is encoded (before the transformer is
    /// loaded); the transformer and VAE stay loaded for every further image, and encoded prompts
    /// are cached, so several seeds load each component once. The default.
    case balanced
    /// One run of `imageCount` images, as `mflux generate` makes: as ``balanced``, and the
    /// transformer is released once the run's last image (`imageIndex == imageCount - 1`) is
    /// denoised, before it is decoded — nothing needs it after that, and the VAE's activations
    /// (gigabytes at 1024²) then do not add to its weights in the peak memory.
    case singleRun
    /// `--low-ram`: every component is released as soon as its stage is done (the transformer
    /// before decoding, the VAE after it), so only one is loaded at a time; each image loads
    /// them again.
    case lowMemory
    /// Everything stays loaded until the generator is released (hosts with memory to spare that
    /// encode many different prompts).
    case keepAll
}
