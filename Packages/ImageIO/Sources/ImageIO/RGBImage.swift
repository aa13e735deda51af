import TensorKit

/// An 8-bit RGB image: `height` rows of `width` pixels, each 3 bytes (R, G, B), row-major,
/// no padding.
public struct RGBImage: Sendable, Equatable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `height x width x 3` bytes.
    public var pixels: [UInt8]

    /// An image from interleaved RGB bytes (`pixels.count` must be `width * height * 3`).
    public init(width: Int, height: Int, pixels: [UInt8]) throws(ImageIOError) {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
            throw .invalidImage("image size \(width)x\(height) is not valid")
        }
        guard pixels.count == width * height * 3 else {
            throw .invalidImage("\(pixels.count) bytes do not hold a \(width)x\(height) RGB image")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image from a uint8 tensor `[3, H, W]` (channels first, as a VAE decodes) or
    /// `[H, W, 3]` (`channelsLast`).
    public init(tensor: Tensor, channelsLast: Bool = false) throws(ImageIOError) {
        guard tensor.dtype == .uint8, tensor.rank == 3, (channelsLast ? tensor.shape[2] : tensor.shape[0]) == 3 else {
            throw .invalidImage("expected a uint8 [3, H, W] or [H, W, 3] tensor, got \(tensor.dtype) \(tensor.shape)")
        }
        let h = channelsLast ? tensor.shape[0] : tensor.shape[1]
        let w = channelsLast ? tensor.shape[1] : tensor.shape[2]
        let src = tensor.scalars(as: UInt8.self)
        if channelsLast {
            try self.init(width: w, height: h, pixels: src)
        } else {
            var px = [UInt8](repeating: 0, count: w * h * 3)
            for c in 0..<3 { for i in 0..<(w * h) { px[i * 3 + c] = src[c * w * h + i] } }
            try self.init(width: w, height: h, pixels: px)
        }
    }

    /// The pixels as a uint8 tensor `[3, H, W]`.
    public func tensor() -> Tensor {
        var chw = [UInt8](repeating: 0, count: width * height * 3)
        for c in 0..<3 { for i in 0..<(width * height) { chw[c * width * height + i] = pixels[i * 3 + c] } }
        return Tensor(shape: [3, height, width], scalars: chw, dtype: .uint8)
    }
}
