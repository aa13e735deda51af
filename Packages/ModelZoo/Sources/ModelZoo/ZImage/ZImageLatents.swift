import TensorKit

/// Z-Image's latent layout: the noise shape for an image size, the 2x2 patchify/unpatchify of
/// the transformer (token feature index `(ph·p + pw)·C + c`, tokens row-major over (f, h, w)), and
/// the VAE's latent scaling.
public enum ZImageLatents {
    /// Latent channels of Z-Image's VAE (and transformer input).
    public static let channels = 16

    /// Checks a requested image size: positive multiples of 16 (`vae_scale_factor · 2`).
    public static func validate(height: Int, width: Int, vaeScaleFactor: Int = 8) throws(ModelError) {
        let m = vaeScaleFactor * 2
        guard height > 0, width > 0, height % m == 0, width % m == 0 else {
            throw .invalidInput("height and width must be positive multiples of \(m), got \(width)x\(height)")
        }
    }

    /// The initial noise shape `[1, 16, H/8, W/8]` for an image of `height x width`.
    public static func noiseShape(height: Int, width: Int, channels: Int = channels, vaeScaleFactor: Int = 8) -> [Int] {
        [1, channels, 2 * (height / (vaeScaleFactor * 2)), 2 * (width / (vaeScaleFactor * 2))]
    }

    /// `[C, F, H, W]` -> `[F/pF · H/p · W/p, pF·p·p·C]`.
    public static func patchify(_ x: Tensor, patch p: Int, framePatch pf: Int) -> Tensor {
        let (c, f, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.reshaped([c, f / pf, pf, h / p, p, w / p, p])
            .permuted([1, 3, 5, 2, 4, 6, 0])
            .reshaped([(f / pf) * (h / p) * (w / p), pf * p * p * c])
    }

    /// The inverse of ``patchify(_:patch:framePatch:)``: the first `F/pF·H/p·W/p` rows of
    /// `tokens` back to `[C, F, H, W]`.
    public static func unpatchify(_ tokens: Tensor, channels c: Int, frames f: Int, height h: Int, width w: Int,
                                  patch p: Int, framePatch pf: Int) -> Tensor {
        let n = (f / pf) * (h / p) * (w / p)
        let real = tokens.shape[0] == n ? tokens : tokens.split(sizes: [n, tokens.shape[0] - n], axis: 0)[0]
        return real.reshaped([f / pf, h / p, w / p, pf, p, p, c])
            .permuted([6, 0, 3, 1, 4, 2, 5])
            .reshaped([c, f, h, w])
    }
}
