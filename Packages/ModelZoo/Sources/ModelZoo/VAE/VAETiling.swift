/// When a generation decodes its latents in tiles (``AutoencoderKL/decodeTiled(_:tileSampleSize:overlap:context:)``):
/// with `--low-ram` (``ResidencyPolicy/lowMemory``) in 512-pixel tiles once the image is larger,
/// and otherwise in 1024-pixel tiles for images over 2048 pixels a side, where the untiled
/// decoder's activations alone take gigabytes. Smaller images decode untiled, as diffusers does
/// by default (tiles change pixels at their seams: see the model READMEs for the measured effect).
public enum VAETiling {
    /// The tile size in pixels for an image of `width x height`, or nil for an untiled decode.
    public static func tileSize(width: Int, height: Int, lowMemory: Bool) -> Int? {
        let side = max(width, height)
        if lowMemory && side > 512 { return 512 }
        if side > 2048 { return 1024 }
        return nil
    }
}
