import Foundation
import FuzzSupport
import ModelZoo
import TensorKit

/// A LoRA file through both families' key parsers (diffusers, PEFT, kohya, ai-toolkit, BFL) and
/// the mflux name mappings on its keys.
@main
struct Main {
    static func main() { FuzzSupport.run(fuzzLoRA) }
}

func fuzzLoRA(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = input else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let path = FuzzSupport.write(bytes, as: "lora.safetensors")
    guard let file = try? LoRAFile(path: path) else { return 0 }
    let ctx = Fixed.context
    _ = try? ZImageTurbo.loraLayers(file, modules: Fixed.zimageModules, context: ctx)
    _ = try? Flux2Klein.loraLayers(file, config: Fixed.kleinConfig, context: ctx)
    for name in file.names {
        for naming in [ZImageTransformer2DModel.mfluxNaming, Flux2Transformer2DModel.mfluxNaming, VAEVariant.flux1.mfluxNaming,
                       VAEVariant.flux2.mfluxNaming, Qwen3TextEncoder.mfluxNaming] {
            _ = naming.diffusersName(naming.mfluxName(name))
        }
    }
    return 0
}

enum Fixed {
    static let context = try! ComputeContext(threadCount: 1)
    static let zimageModules: Set<String> = {
        var m: Set<String> = ["cap_embedder.1", "all_x_embedder.2-1", "all_final_layer.2-1.linear", "t_embedder.mlp.0", "t_embedder.mlp.2"]
        for block in ["layers.0", "layers.1", "noise_refiner.0", "context_refiner.0"] {
            for l in ["attention.to_q", "attention.to_k", "attention.to_v", "attention.to_out.0", "feed_forward.w1", "feed_forward.w2",
                      "feed_forward.w3", "adaLN_modulation.0"] { m.insert(block + "." + l) }
        }
        return m
    }()
    static let kleinConfig: Flux2TransformerConfig = {
        var c = Flux2TransformerConfig()
        c.numLayers = 2
        c.numSingleLayers = 2
        return c
    }()
}
