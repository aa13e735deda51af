import ImageIO
import TensorKit

/// diffusers' `VaeImageProcessor` for both pipelines: `postprocess`, a decoded image in about
/// [-1, 1] to uint8 (`clamp(x/2 + 0.5, 0, 1) · 255` rounded half to even), and `preprocess`, an
/// input picture resized with Pillow's LANCZOS and scaled to [-1, 1].
public enum VAEImageProcessor {
    /// A decoded image `[1, 3, H, W]` -> uint8 pixels `[H, W, 3]`.
    public static func pixels(_ image: Tensor, context ctx: ComputeContext) -> Tensor {
        ctx.imageToUInt8(image.reshaped(Array(image.shape.dropFirst()))).permuted([1, 2, 0])
    }

    /// An RGB picture -> `[1, 3, height, width]` in [-1, 1]: resized with Pillow's LANCZOS when its
    /// size differs (`image.resize((width, height))`, no crop), then `x / 255` and `2x - 1` in float32.
    public static func preprocess(_ image: RGBImage, width: Int, height: Int) throws(ModelError) -> Tensor {
        let sized: RGBImage
        do {
            sized = try Resample.resize(image, width: width, height: height, filter: .lanczos)
        } catch {
            throw .invalidInput("input image: \(error.description)")
        }
        var out = [Float](repeating: 0, count: 3 * width * height)
        let plane = width * height
        for p in 0..<plane {
            for c in 0..<3 {
                let v = Float(sized.pixels[p * 3 + c]) / 255
                out[c * plane + p] = 2 * v - 1
            }
        }
        return Tensor(shape: [1, 3, height, width], floats: out)
    }
}
