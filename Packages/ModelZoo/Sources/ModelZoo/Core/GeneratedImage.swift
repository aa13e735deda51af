import TensorKit

/// The result of one ``GenerationRequest``.
public struct GeneratedImage: Sendable {
    /// What was asked.
    public let request: GenerationRequest
    /// `[H, W, 3]` uint8 pixels.
    public let pixels: Tensor
    /// The final latents, in the model's own layout, before decoding (diffusers' `output_type="latent"`).
    public let latents: Tensor
    /// The schedule's sigmas (`steps + 1` values).
    public let sigmas: [Float]
    /// Seconds spent per stage: "encode" (0 when the prompt was cached), "denoise", "decode".
    public let timings: [String: Double]
}
