import Foundation

/// Pillow's (13) `Image.resize` for 8-bit RGB images, value for value: the same separable convolution
/// (`libImaging/Resample.c`): per output pixel a window of input pixels weighted by the filter
/// (scaled up when shrinking), weights normalised, then turned into 22-bit fixed point; a
/// horizontal pass over the rows the vertical pass needs, rounded and clipped to uint8, then the
/// vertical pass. This is what diffusers' `VaeImageProcessor.resize` runs (PIL, LANCZOS by
/// default), so a resized input image matches the reference pipelines exactly.
public enum Resample {
    /// Pillow's resampling filters.
    public enum Filter: String, Sendable, CaseIterable {
        /// Triangle, support 1 (`Image.BILINEAR`).
        case bilinear
        /// Cubic convolution with a = -0.5, support 2 (`Image.BICUBIC`).
        case bicubic
        /// Windowed sinc, support 3 (`Image.LANCZOS`).
        case lanczos

        var support: Double {
            switch self {
            case .bilinear: return 1
            case .bicubic: return 2
            case .lanczos: return 3
            }
        }

        func weight(_ x: Double) -> Double {
            switch self {
            case .bilinear:
                let a = abs(x)
                return a < 1 ? 1 - a : 0
            case .bicubic:
                let a = -0.5, t = abs(x)
                if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
                if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
                return 0
            case .lanczos:
                guard -3 <= x && x < 3 else { return 0 }
                return Self.sinc(x) * Self.sinc(x / 3)
            }
        }

        static func sinc(_ x: Double) -> Double {
            if x == 0 { return 1 }
            let p = x * Double.pi
            return sin(p) / p
        }
    }

    static let precisionBits = 32 - 8 - 2

    /// Per output position: first input index, count, and fixed-point weights (`ksize` each).
    struct Coefficients {
        var bounds: [(start: Int, count: Int)]
        var weights: [Int32]
        let ksize: Int
    }

    static func coefficients(inSize: Int, outSize: Int, filter: Filter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        var bounds: [(Int, Int)] = []
        var weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            // C's (int) truncates toward zero; the arguments here are >= -support + 0.5.
            var xmin = Int((center - support + 0.5).rounded(.towardZero))
            if xmin < 0 { xmin = 0 }
            var xmax = Int((center + support + 0.5).rounded(.towardZero))
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var ww = 0.0
            for x in 0..<ksize { k[x] = 0 }
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<max(xmax, 0) where ww != 0 { k[x] /= ww }
            for x in 0..<ksize {
                let v = k[x] * Double(1 << precisionBits)
                weights[xx * ksize + x] = Int32(v < 0 ? (-0.5 + v).rounded(.towardZero) : (0.5 + v).rounded(.towardZero))
            }
            bounds.append((xmin, max(xmax, 0)))
        }
        return Coefficients(bounds: bounds, weights: weights, ksize: ksize)
    }

    static func clip8(_ v: Int64) -> UInt8 {
        if v >= Int64(1) << (precisionBits + 8) { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> precisionBits)
    }

    /// `image` resized to `width` x `height` with `filter`, as Pillow's `image.resize((width,
    /// height), filter)` (the whole image as the source box). Unchanged when the size is the same.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: Filter = .lanczos) throws(ImageIOError) -> RGBImage {
        guard width > 0, height > 0 else { throw .invalidImage("cannot resize to \(width)x\(height)") }
        if width == image.width && height == image.height { return image }
        // Pillow 13 runs the vertical pass first when the height shrinks by more than twice the
        // width does (each pass rounds to uint8, so the order shows in the values). Determined
        // against Pillow 13.0.0 on ~900 size pairs; earlier Pillows did this only for images
        // over 100x taller than wide.
        if height < image.height, width != image.width, image.height - height > 2 * (image.width - width) {
            return try resize(try resize(image, width: image.width, height: height, filter: filter), width: width, height: height, filter: filter)
        }
        let horizontal = coefficients(inSize: image.width, outSize: width, filter: filter)
        var vertical = coefficients(inSize: image.height, outSize: height, filter: filter)
        var src = image.pixels, rows = image.height
        if width != image.width {
            // Only the rows the vertical pass reads.
            var first = 0
            if height != image.height {
                first = vertical.bounds[0].start
                rows = vertical.bounds[height - 1].start + vertical.bounds[height - 1].count - first
                for i in 0..<height { vertical.bounds[i].start -= first }
            }
            // Along a row: taps 3 bytes apart; rows `image.width·3` apart.
            src = convolve(src, horizontal, outputs: width, lines: rows, lineOffset: first * image.width * 3,
                           inLine: image.width * 3, inTap: 3, outLine: width * 3, outStep: 3)
        }
        if height != image.height {
            // Along a column: taps a row apart; columns 3 bytes apart.
            src = convolve(src, vertical, outputs: height, lines: width, lineOffset: 0,
                           inLine: 3, inTap: width * 3, outLine: 3, outStep: width * 3)
            rows = height
        }
        precondition(rows == height && src.count == width * height * 3)
        return try RGBImage(width: width, height: height, pixels: src)
    }

    /// One separable pass: for each of `lines` lines and each of `outputs` positions, the
    /// fixed-point weighted sum of the taps `coefficients` selects (RGB, rounded and clipped to
    /// uint8 as Pillow's 8-bit pass does). Input byte of (line, tap): `lineOffset + line·inLine +
    /// tap·inTap`; output byte of (line, position): `line·outLine + position·outStep`.
    static func convolve(_ src: [UInt8], _ c: Coefficients, outputs: Int, lines: Int, lineOffset: Int,
                         inLine: Int, inTap: Int, outLine: Int, outStep: Int) -> [UInt8] {
        let half = Int64(1) << (precisionBits - 1)
        var out = [UInt8](repeating: 0, count: outputs * lines * 3)
        for line in 0..<lines {
            let base = lineOffset + line * inLine
            for o in 0..<outputs {
                let (start, count) = c.bounds[o]
                var s0 = half, s1 = half, s2 = half
                for t in 0..<count {
                    let w = Int64(c.weights[o * c.ksize + t])
                    let p = base + (t + start) * inTap
                    s0 += Int64(src[p]) * w
                    s1 += Int64(src[p + 1]) * w
                    s2 += Int64(src[p + 2]) * w
                }
                let d = line * outLine + o * outStep
                out[d] = clip8(s0)
                out[d + 1] = clip8(s1)
                out[d + 2] = clip8(s2)
            }
        }
        return out
    }
}
