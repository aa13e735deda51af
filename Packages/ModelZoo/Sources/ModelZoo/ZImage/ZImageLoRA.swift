import TensorKit

/// The LoRA files diffusers 0.42.1 loads for Z-Image (`ZImageLoraLoaderMixin`), converted to
/// layers of `ZImageTransformer2DModel` by diffusers' module names:
/// - diffusers / PEFT: `transformer.<module>.lora_A.weight` / `lora_B.weight`, scaled by the
///   file's `lora_adapter_metadata` (`lora_alpha / r`, patterns) — no conversion;
/// - ai-toolkit: `diffusion_model.<module>.lora_A/B.weight` with per-module `.alpha`;
/// - kohya: `lora_unet_<module with "_" for ".">.lora_down/lora_up.weight` + `.alpha`, also over
///   the original fused attention (`…_attention_qkv` split into to_q/to_k/to_v: A shared, B in
///   thirds; `…_attention_out` = `to_out.0`);
/// with `alpha / rank` folded into A and B as `_convert_non_diffusers_z_image_lora_to_diffusers`
/// does (`default.` infixes dropped). PEFT `base_model.model.` files load nothing in diffusers
/// and are refused here; keys that map to no layer are an error naming them.
extension ZImageTurbo {
    /// `file`'s layers (diffusers module names, A/B float32, PEFT scale) for a transformer whose linear layers are `modules`.
    public static func loraLayers(_ file: LoRAFile, modules: Set<String>, context ctx: ComputeContext) throws(ModelError) -> [LoRAFile.Layer] {
        if let layers = try file.diffusersLayers(context: ctx) { return layers }
        let keys = file.names
        if let bad = keys.first(where: { $0.hasPrefix("base_model.model.") }) {
            throw .invalidInput("LoRA file \(file.path): PEFT keys (\(bad)) are not loaded for Z-Image by diffusers; save them with the transformer. prefix")
        }
        let textEncoder = keys.filter { $0.hasPrefix("lora_te") || $0.hasPrefix("text_encoder.") }
        if !textEncoder.isEmpty { throw file.unmatched(textEncoder, "are for the text encoder, which LoRA does not reach here") }
        let stripDiffusion = keys.contains { $0.hasPrefix("diffusion_model.") }
        // Group the keys by layer: (down, up, alpha) under the file's own layer name.
        var groups: [String: (down: Tensor?, up: Tensor?, alpha: Tensor?)] = [:]
        var unknown: [String] = []
        for key in keys {
            var k = key
            if stripDiffusion, k.hasPrefix("diffusion_model.") { k.removeFirst("diffusion_model.".count) }
            if k.hasPrefix("transformer.") { k.removeFirst("transformer.".count) }
            let t = try file.tensor(key)
            if let base = k.strip(".lora_A.weight") ?? k.strip(".lora_down.weight") { groups[base, default: (nil, nil, nil)].down = t }
            else if let base = k.strip(".lora_B.weight") ?? k.strip(".lora_up.weight") { groups[base, default: (nil, nil, nil)].up = t }
            else if let base = k.strip(".alpha") { groups[base, default: (nil, nil, nil)].alpha = t }
            else { unknown.append(key) }
        }
        if !unknown.isEmpty { throw file.unmatched(unknown, "are not LoRA weights (lora_A/lora_B, lora_down/lora_up, alpha)") }
        // kohya names: the model's layer names with "_" for ".".
        var underscored: [String: String] = [:]
        for m in modules { underscored[m.replacingOccurrences(of: ".", with: "_")] = m }
        var layers: [LoRAFile.Layer] = []
        var unmatched: [String] = []
        for (name, g) in groups.sorted(by: { $0.key < $1.key }) {
            guard let down = g.down, let up = g.up else {
                throw .invalidInput("LoRA file \(file.path): layer \(name) has \(g.down == nil ? "no lora_A/lora_down" : "no lora_B/lora_up") weight")
            }
            try file.checkPair(name, down: down, up: up)
            let (a, b) = try LoRAFile.fold(down: down, up: up, alpha: g.alpha, context: ctx)
            var kohya = name
            if kohya.hasPrefix("lora_unet_") { kohya.removeFirst("lora_unet_".count) } else if modules.contains(name) {
                layers.append(.init(module: name, down: a, up: b, scale: 1))
                continue
            } else {
                unmatched.append(name)
                continue
            }
            if let m = underscored[kohya] {
                layers.append(.init(module: m, down: a, up: b, scale: 1))
            } else if let block = kohya.strip("_attention_qkv"),
                      let q = underscored[block + "_attention_to_q"], let k = underscored[block + "_attention_to_k"], let v = underscored[block + "_attention_to_v"] {
                // The original fused projection: B in thirds (q, k, v), A shared.
                guard b.shape[0] % 3 == 0 else { throw .invalidInput("LoRA file \(file.path): \(name) has \(b.shape[0]) output rows, not 3 equal parts") }
                for (module, part) in zip([q, k, v], b.chunked(3, axis: 0)) { layers.append(.init(module: module, down: a, up: part, scale: 1)) }
            } else if let block = kohya.strip("_attention_out"), let m = underscored[block + "_attention_to_out_0"] {
                layers.append(.init(module: m, down: a, up: b, scale: 1))
            } else {
                unmatched.append(name)
            }
        }
        if !unmatched.isEmpty { throw file.unmatched(unmatched, "match no layer of the Z-Image transformer", family: "Z-Image") }
        return layers
    }
}

extension String {
    /// `self` without `suffix`, or nil when it does not end with it.
    func strip(_ suffix: String) -> String? { hasSuffix(suffix) ? String(dropLast(suffix.count)) : nil }
}
