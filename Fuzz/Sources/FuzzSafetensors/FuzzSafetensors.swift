import FuzzSupport
import SafetensorsIO
import TensorKit

/// A `.safetensors` file (header, JSON, offsets, metadata, every tensor read), the same bytes as
/// a sharded index, and the JSON parser alone.
@main
struct Main {
    static func main() { FuzzSupport.run(fuzzSafetensors) }
}

func fuzzSafetensors(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? JSONParser.parse(Array(bytes))
    let path = FuzzSupport.write(bytes, as: "model.safetensors")
    if let file = try? SafetensorsFile(path: path) {
        for name in file.tensorNames {
            if let t = try? file.tensor(name), t.dtype.isComputeFloat, t.count < 1 << 20 {
                _ = t.toFloat32(context: FuzzContext.shared)
            }
        }
    }
    let index = FuzzSupport.write(bytes, as: "model.safetensors.index.json")
    _ = try? ShardedCheckpoint(indexPath: index)
    _ = try? Checkpoint.open(FuzzSupport.folder)
    return 0
}

enum FuzzContext {
    static let shared = try! ComputeContext(threadCount: 1)
}
