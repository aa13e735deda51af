import ImageIO

/// Images side by side as one horizontal strip (width: the sum; height: the tallest; shorter
/// images top-aligned on black).
public enum CompositeImage {
    /// The strip of `images` (at least one).
    public static func strip(_ images: [RGBImage]) throws -> RGBImage {
        guard !images.isEmpty else { throw CallbackError("no images to compose") }
        let width = images.reduce(0) { $0 + $1.width }, height = images.map(\.height).max()!
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var x0 = 0
        for image in images {
            for y in 0..<image.height {
                let src = y * image.width * 3, dst = (y * width + x0) * 3
                pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
            }
            x0 += image.width
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }
}
