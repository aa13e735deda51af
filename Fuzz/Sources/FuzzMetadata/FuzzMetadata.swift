import Foundation
import FuzzSupport
import ModelZoo

/// The metadata reader of `--config-from-metadata` and `mflux info`: the bytes as a sidecar JSON
/// and as a file whose name says PNG.
@main
struct Main {
    static func main() { FuzzSupport.run(fuzzMetadata) }
}

func fuzzMetadata(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? GenerationMetadata.parse(Data(bytes), source: "fuzz")
    _ = try? GenerationMetadata.read(path: FuzzSupport.write(bytes, as: "image.metadata.json"))
    _ = try? GenerationMetadata.read(path: FuzzSupport.write(bytes, as: "image.png"))
    return 0
}
