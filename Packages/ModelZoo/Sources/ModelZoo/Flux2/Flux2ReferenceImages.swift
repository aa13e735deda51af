import Foundation
import ImageIO
import TensorKit

/// FLUX.2-klein's reference images as `Flux2KleinPipeline(image=[...])` prepares them: each
/// checked (sides >= 64, aspect <= 8), shrunk to at most 1024² pixels (Pillow LANCZOS,
/// `int(side·sqrt(1024²/area))`), centre-cropped to multiples of 16, scaled to [-1, 1],
/// VAE-encoded to the posterior mode, 2x2-patchified, BatchNorm-normalised and packed to tokens
/// with ids `(10 + 10·i, row, column, 0)`; images in order, tokens appended after the image's.
public enum Flux2ReferenceImages {
    /// The pixel area above which a reference is shrunk (`1024²`).
    public static let maxArea = 1024 * 1024

    /// Checks a reference image as `check_image_input` does.
    public static func check(_ image: RGBImage, index: Int) throws(ModelError) {
        guard image.width >= 64, image.height >= 64 else {
            throw .invalidInput("reference image \(index + 1) is \(image.width)x\(image.height): too small (at least 64 pixels a side)")
        }
        let aspect = max(Double(image.width) / Double(image.height), Double(image.height) / Double(image.width))
        guard aspect <= 8 else {
            throw .invalidInput("reference image \(index + 1) is \(image.width)x\(image.height): aspect ratio too extreme (at most 8:1)")
        }
    }

    /// The size after the area limit (`int(W·s)`, `int(H·s)` with `s = sqrt(1024²/(W·H))` when
    /// `W·H > 1024²`).
    public static func limitedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard width * height > maxArea else { return (width, height) }
        let s = (Double(maxArea) / Double(width * height)).squareRoot()
        return (Int(Double(width) * s), Int(Double(height) * s))
    }

    /// The size a reference is encoded at: the area limit, then floored to multiples of 16
    /// (also the output size diffusers derives from the first reference).
    public static func encodedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let (w, h) = limitedSize(width: width, height: height)
        return (w - w % 16, h - h % 16)
    }

    /// The preprocessed reference `[1, 3, h16, w16]` in [-1, 1]: area limit, centre crop.
    public static func preprocess(_ image: RGBImage, index: Int) throws(ModelError) -> Tensor {
        try check(image, index: index)
        let (w, h) = limitedSize(width: image.width, height: image.height)
        var sized = image
        if (w, h) != (image.width, image.height) {
            do { sized = try Resample.resize(image, width: w, height: h, filter: .lanczos) } catch { throw .invalidInput("reference image \(index + 1): \(error.description)") }
        }
        let (w16, h16) = (w - w % 16, h - h % 16)
        let (left, top) = ((w - w16) / 2, (h - h16) / 2)
        var out = [Float](repeating: 0, count: 3 * w16 * h16)
        let plane = w16 * h16
        for y in 0..<h16 {
            for x in 0..<w16 {
                let p = ((y + top) * w + (x + left)) * 3
                for c in 0..<3 { out[c * plane + y * w16 + x] = 2 * (Float(sized.pixels[p + c]) / 255) - 1 }
            }
        }
        return Tensor(shape: [1, 3, h16, w16], floats: out)
    }

    /// `[1, C, H, W]` -> `[1, 4C, H/2, W/2]`, channel `c·4 + ph·2 + pw` (diffusers' `_patchify_latents`).
    public static func patchify(_ x: Tensor) -> Tensor {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        return x.reshaped([c, h / 2, 2, w / 2, 2]).permuted([0, 2, 4, 1, 3]).reshaped([1, 4 * c, h / 2, w / 2])
    }

    /// All references as tokens `[Σ n_i, 4C]` with their ids.
    public static func tokens(_ images: [RGBImage], vae: AutoencoderKL, context ctx: ComputeContext) throws(ModelError) -> ReferenceTokens {
        guard let mean = vae.batchNormMean, let variance = vae.batchNormVar else {
            throw .invalidConfig("reference images need the FLUX.2 VAE's BatchNorm statistics")
        }
        var parts: [Tensor] = [], ids: [[Int]] = []
        for (i, image) in images.enumerated() {
            let z = try vae.encodeMode(try preprocess(image, index: i), context: ctx)
            let normalized = ctx.batchNormStatistics(patchify(z), runningMean: mean, runningVar: variance,
                                                     eps: Float(vae.config.batchNormEps), inverse: false)
            let (gh, gw) = (normalized.shape[2], normalized.shape[3])
            parts.append(Flux2Latents.pack(normalized).reshaped([gh * gw, normalized.shape[1]]))
            ids += (0..<gh).flatMap { y in (0..<gw).map { x in [10 + 10 * i, y, x, 0] } }
        }
        return ReferenceTokens(tokens: Tensor.concat(parts, axis: 0, context: ctx), ids: ids)
    }
}
