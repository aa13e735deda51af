import TensorKit

/// diffusers' `VaeImageProcessor.postprocess` for both pipelines: a decoded image in about [-1, 1]
/// to uint8, `clamp(x/2 + 0.5, 0, 1) · 255` rounded half to even.
public enum VAEImageProcessor {
    /// A decoded image `[1, 3, H, W]` -> uint8 pixels `[H, W, 3]`.
    public static func pixels(_ image: Tensor, context ctx: ComputeContext) -> Tensor {
        ctx.imageToUInt8(image.reshaped(Array(image.shape.dropFirst()))).permuted([1, 2, 0])
    }
}
