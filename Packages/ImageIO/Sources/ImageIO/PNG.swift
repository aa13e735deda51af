import CPNG
import CZlib
import Foundation
import TensorKit

/// PNG encoding and decoding through libpng's simplified API (no `setjmp` needed), plus
/// `tEXt`/`iTXt` text chunks handled in Swift.
public enum PNG {
    /// Text metadata: (keyword, text) pairs in order. Keywords are 1-79 Latin-1 characters without
    /// leading, trailing or double spaces; ASCII texts go in `tEXt` chunks, others in UTF-8
    /// `iTXt` chunks.
    public typealias TextChunks = [(key: String, value: String)]

    /// Encodes `image` as an 8-bit RGB PNG with `text` chunks inserted before `IEND`.
    public static func encode(_ image: RGBImage, text: TextChunks = []) throws(ImageIOError) -> [UInt8] {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width)
        img.height = UInt32(image.height)
        img.format = UInt32(PNG_FORMAT_RGB)
        var size: png_alloc_size_t = 0
        let stride = Int32(image.width * 3)
        let ok1 = image.pixels.withUnsafeBytes { px in
            png_image_write_to_memory(&img, nil, &size, 0, px.baseAddress, stride, nil)
        }
        guard ok1 != 0, size > 0 else { throw .encode("PNG encoding failed: \(message(&img))") }
        var out = [UInt8](repeating: 0, count: Int(size))
        let ok2 = image.pixels.withUnsafeBytes { px in
            out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&img, dst.baseAddress, &size, 0, px.baseAddress, stride, nil)
            }
        }
        guard ok2 != 0 else { throw .encode("PNG encoding failed: \(message(&img))") }
        out.removeLast(out.count - Int(size))
        guard out.count >= 12, Array(out[(out.count - 8)..<(out.count - 4)]) == Array("IEND".utf8) else {
            throw .encode("libpng output does not end with IEND")
        }
        var chunks: [UInt8] = []
        for (key, value) in text { chunks += try textChunk(key: key, value: value) }
        out.insert(contentsOf: chunks, at: out.count - 12)
        return out
    }

    /// Writes `image` as a PNG file at `path`, atomically, under `policy`.
    public static func write(_ image: RGBImage, to path: String, text: TextChunks = [], policy: OverwritePolicy) throws(ImageIOError) {
        let bytes = try encode(image, text: text)
        do throws(TensorError) {
            try AtomicFile.write(to: path, policy: policy) { sink throws(TensorError) in try sink.write(bytes) }
        } catch {
            if case .fileExists(let p) = error { throw .fileExists(p) }
            throw .io(error.description)
        }
    }

    /// Decodes a PNG (any bit depth/colour type libpng reads) to 8-bit RGB, with its text chunks.
    public static func decode(_ bytes: [UInt8]) throws(ImageIOError) -> (image: RGBImage, text: TextChunks) {
        guard bytes.count >= 8, Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw .decode("not a PNG file (bad signature)")
        }
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { b in png_image_begin_read_from_memory(&img, b.baseAddress, b.count) }
        guard begun != 0 else { throw .decode("cannot read PNG: \(message(&img))") }
        img.format = UInt32(PNG_FORMAT_RGB)
        let w = Int(img.width), h = Int(img.height)
        guard w > 0, h > 0, w <= 1 << 16, h <= 1 << 16 else {
            png_image_free(&img)
            throw .decode("PNG size \(w)x\(h) is not supported")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        let done = pixels.withUnsafeMutableBytes { px in
            png_image_finish_read(&img, nil, px.baseAddress, Int32(w * 3), nil)
        }
        guard done != 0 else { throw .decode("cannot decode PNG: \(message(&img))") }
        let text = try readTextChunks(bytes)
        return (try RGBImage(width: w, height: h, pixels: pixels), text)
    }

    /// Reads and decodes the PNG file at `path`.
    public static func read(_ path: String) throws(ImageIOError) -> (image: RGBImage, text: TextChunks) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read \(path)") }
        do throws(ImageIOError) {
            return try decode(Array(data))
        } catch {
            throw .decode("\(path): \(error.description)")
        }
    }

    private static func message(_ img: inout png_image) -> String {
        withUnsafeBytes(of: &img.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func crc(_ type: [UInt8], _ data: [UInt8]) -> UInt32 {
        var c = crc32(0, nil, 0)
        c = type.withUnsafeBufferPointer { crc32(c, $0.baseAddress, UInt32($0.count)) }
        c = data.withUnsafeBufferPointer { crc32(c, $0.baseAddress, UInt32($0.count)) }
        return UInt32(c)
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        let n = UInt32(data.count), c = crc(t, data)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + t + data
            + [UInt8(c >> 24), UInt8(c >> 16 & 0xff), UInt8(c >> 8 & 0xff), UInt8(c & 0xff)]
    }

    static func textChunk(key: String, value: String) throws(ImageIOError) -> [UInt8] {
        let scalars = Array(key.unicodeScalars)
        guard (1...79).contains(scalars.count), scalars.allSatisfy({ (0x20...0x7E).contains($0.value) || (0xA1...0xFF).contains($0.value) }),
              scalars.first != " ", scalars.last != " ", !key.contains("  ") else {
            throw .invalidText("PNG text keyword \"\(key)\" must be 1-79 printable Latin-1 characters without leading, trailing or double spaces")
        }
        let keyBytes = scalars.map { UInt8($0.value) }
        if value.unicodeScalars.allSatisfy({ $0.isASCII && $0 != "\0" }) {
            return chunk("tEXt", keyBytes + [0] + Array(value.utf8))
        }
        guard !value.contains("\0") else { throw .invalidText("PNG text for \"\(key)\" contains a NUL character") }
        // iTXt: keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty
        // translated keyword, NUL, UTF-8 text.
        return chunk("iTXt", keyBytes + [0, 0, 0, 0, 0] + Array(value.utf8))
    }

    /// The `tEXt` and uncompressed `iTXt` chunks of a PNG, in file order.
    static func readTextChunks(_ bytes: [UInt8]) throws(ImageIOError) -> TextChunks {
        var out: TextChunks = []
        var i = 8
        while i + 12 <= bytes.count {
            let n = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard n <= bytes.count - i - 12 else { throw .decode("PNG chunk runs past the end of the file") }
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let data = Array(bytes[(i + 8)..<(i + 8 + n)])
            if type == "tEXt", let z = data.firstIndex(of: 0) {
                let key = String(data[..<z].map { Character(Unicode.Scalar($0)) })
                let value = String(data[(z + 1)...].map { Character(Unicode.Scalar($0)) })
                out.append((key, value))
            } else if type == "iTXt", let z = data.firstIndex(of: 0), z + 2 < data.count, data[z + 1] == 0 {
                let key = String(data[..<z].map { Character(Unicode.Scalar($0)) })
                var j = z + 3
                guard let l1 = data[j...].firstIndex(of: 0) else { break }
                j = l1 + 1
                guard let l2 = data[j...].firstIndex(of: 0) else { break }
                out.append((key, String(decoding: data[(l2 + 1)...], as: UTF8.self)))
            }
            if type == "IEND" { break }
            i += 12 + n
        }
        return out
    }
}
