import Foundation
import FuzzSupport
import ModelZoo
import Schedulers

/// Every config reader on the same bytes: the transformer, text encoder, VAE and scheduler
/// configs, and `model_index.json` (as a pipeline folder would hold it).
@main
struct Main {
    static func main() { FuzzSupport.run(fuzzConfig) }
}

func fuzzConfig(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let path = FuzzSupport.write(bytes, as: "config.json")
    _ = try? ZImageTransformerConfig.load(path: path)
    _ = try? Flux2TransformerConfig.load(path: path)
    _ = try? Qwen3Config.load(path: path)
    _ = try? VAEConfig.load(path: path, variant: .flux1)
    _ = try? VAEConfig.load(path: path, variant: .flux2)
    _ = try? FlowMatchEulerDiscreteSchedulerConfig.load(path: path)
    _ = FuzzSupport.write(bytes, as: "model_index.json")
    _ = try? ModelIndex.read(modelPath: FuzzSupport.folder)
    _ = try? ModelIndex.flag("is_distilled", modelPath: FuzzSupport.folder)
    return 0
}
