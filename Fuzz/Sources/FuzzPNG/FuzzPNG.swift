import FuzzSupport
import ImageIO

/// `PNG.decode` on arbitrary bytes (libpng's simplified reader plus the text chunks), then the
/// resampler on what decodes.
@main
struct Main {
    static func main() { FuzzSupport.run(fuzzPNG) }
}

func fuzzPNG(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let (image, _) = try? PNG.decode(bytes), image.width * image.height <= 1 << 16 {
        _ = try? Resample.resize(image, width: max(1, image.width / 2 + 1), height: max(1, image.height * 2 / 3 + 1))
    }
    return 0
}
