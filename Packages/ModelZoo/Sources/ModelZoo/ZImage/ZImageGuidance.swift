/// Classifier-free guidance as `ZImagePipeline` runs it: active whenever `scale > 0`, with
/// `pred = pos + scale · (pos - neg)`, optional renormalisation and truncation.
public struct ZImageGuidance: Sendable, Equatable {
    /// `guidance_scale` (0: no guidance, one transformer call per step; Z-Image-Turbo's default).
    public var scale: Float
    /// `cfg_normalization`: when > 0, `pred` is rescaled so its norm is at most this times the
    /// norm of `pos`.
    public var normalization: Float
    /// `cfg_truncation`: guidance is switched off for steps whose `(1000 - t) / 1000` exceeds it
    /// (1 keeps it on for every step).
    public var truncation: Float

    /// Guidance with diffusers' defaults for normalisation (off) and truncation (1.0).
    public init(scale: Float, normalization: Float = 0, truncation: Float = 1) {
        self.scale = scale
        self.normalization = normalization
        self.truncation = truncation
    }

    /// No guidance (Z-Image-Turbo).
    public static let none = ZImageGuidance(scale: 0)
}
