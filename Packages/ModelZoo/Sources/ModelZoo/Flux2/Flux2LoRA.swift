import TensorKit

/// The LoRA files diffusers 0.42.1 loads for FLUX.2-klein (`Flux2LoraLoaderMixin`), converted to
/// layers of `Flux2Transformer2DModel` by diffusers' module names:
/// - diffusers / PEFT: `transformer.<module>.lora_A/B.weight`, scaled by `lora_adapter_metadata`;
/// - BFL / ComfyUI (`diffusion_model.<BFL name>.lora_A/B.weight`, no alpha) and PEFT
///   (`base_model.model.<diffusers block name>`): `_convert_non_diffusers_flux2_lora_to_diffusers`
///   — `double_blocks.N.{img,txt}_attn.qkv` split into to_q/to_k/to_v (add_*_proj for text): A
///   copied, B in thirds; proj, mlp, `single_blocks.N.linear1/2`, modulations, `img_in`, `txt_in`,
///   `time_in`, `final_layer` mapped by diffusers' table; expanded block names pass through;
/// - kohya (`lora_unet_double_blocks_N_img_attn_qkv.lora_down/up` + `.alpha`):
///   `_convert_kohya_flux2_lora_to_diffusers`, alpha folded; a qkv whose B is block-diagonal with
///   rank divisible by 3 becomes three rank/3 LoRAs.
/// Keys diffusers would reject, drop or leave unmatched are an error naming them.
extension Flux2Klein {
    /// BFL (original) layer name -> diffusers layers, for `config`'s depth (qkv: three targets).
    static func bflNames(_ c: Flux2TransformerConfig, kohya: Bool) -> [String: [String]] {
        var m: [String: [String]] = [:]
        for i in 0..<c.numLayers {
            let d = "double_blocks.\(i)", t = "transformer_blocks.\(i)"
            m[d + ".img_attn.qkv"] = ["to_q", "to_k", "to_v"].map { "\(t).attn.\($0)" }
            m[d + ".txt_attn.qkv"] = ["add_q_proj", "add_k_proj", "add_v_proj"].map { "\(t).attn.\($0)" }
            m[d + ".img_attn.proj"] = [t + ".attn.to_out.0"]
            m[d + ".txt_attn.proj"] = [t + ".attn.to_add_out"]
            m[d + ".img_mlp.0"] = [t + ".ff.linear_in"]
            m[d + ".img_mlp.2"] = [t + ".ff.linear_out"]
            m[d + ".txt_mlp.0"] = [t + ".ff_context.linear_in"]
            m[d + ".txt_mlp.2"] = [t + ".ff_context.linear_out"]
        }
        for i in 0..<c.numSingleLayers {
            m["single_blocks.\(i).linear1"] = ["single_transformer_blocks.\(i).attn.to_qkv_mlp_proj"]
            m["single_blocks.\(i).linear2"] = ["single_transformer_blocks.\(i).attn.to_out"]
        }
        m["img_in"] = ["x_embedder"]
        m["txt_in"] = ["context_embedder"]
        m["time_in.in_layer"] = ["time_guidance_embed.timestep_embedder.linear_1"]
        m["time_in.out_layer"] = ["time_guidance_embed.timestep_embedder.linear_2"]
        m["final_layer.linear"] = ["proj_out"]
        if !kohya {
            // diffusers maps these for BFL files only (kohya's converter drops them).
            m["guidance_in.in_layer"] = ["time_guidance_embed.guidance_embedder.linear_1"]
            m["guidance_in.out_layer"] = ["time_guidance_embed.guidance_embedder.linear_2"]
            m["final_layer.adaLN_modulation.1"] = ["norm_out.linear"]  // diffusers does not swap B's halves here
            m["single_stream_modulation.lin"] = ["single_stream_modulation.linear"]
            m["double_stream_modulation_img.lin"] = ["double_stream_modulation_img.linear"]
            m["double_stream_modulation_txt.lin"] = ["double_stream_modulation_txt.linear"]
        }
        return m
    }

    /// `file`'s layers for a transformer with `config`.
    public static func loraLayers(_ file: LoRAFile, config c: Flux2TransformerConfig, context ctx: ComputeContext) throws(ModelError) -> [LoRAFile.Layer] {
        if let layers = try file.diffusersLayers(context: ctx) { return layers }
        let keys = file.names
        let textEncoder = keys.filter { $0.hasPrefix("lora_te") || $0.hasPrefix("text_encoder.") }
        if !textEncoder.isEmpty { throw file.unmatched(textEncoder, "are for the text encoder, which LoRA does not reach here") }
        if keys.contains(where: { $0.hasSuffix(".lora_down.weight") }) { return try kohyaLayers(file, config: c, context: ctx) }
        // BFL / PEFT: lora_A/lora_B only.
        var groups: [String: (down: Tensor?, up: Tensor?)] = [:]
        var unknown: [String] = []
        for key in keys {
            var k = key
            if k.hasPrefix("base_model.model.") { k = "diffusion_model." + k.dropFirst("base_model.model.".count) }
            guard k.hasPrefix("diffusion_model.") else { unknown.append(key); continue }
            k.removeFirst("diffusion_model.".count)
            if let base = k.strip(".lora_A.weight") { groups[base, default: (nil, nil)].down = try file.tensor(key) }
            else if let base = k.strip(".lora_B.weight") { groups[base, default: (nil, nil)].up = try file.tensor(key) }
            else { unknown.append(key) }
        }
        if !unknown.isEmpty {
            throw file.unmatched(unknown, "are not in a format diffusers loads for FLUX.2 (transformer.*, diffusion_model.* lora_A/lora_B without alpha, base_model.model.*, or kohya lora_unet_*)", family: "FLUX.2")
        }
        let table = bflNames(c, kohya: false)
        var layers: [LoRAFile.Layer] = [], unmatched: [String] = []
        for (name, g) in groups.sorted(by: { $0.key < $1.key }) {
            guard let down = g.down, let up = g.up else {
                throw .invalidInput("LoRA file \(file.path): layer \(name) has \(g.down == nil ? "no lora_A" : "no lora_B") weight")
            }
            try file.checkPair(name, down: down, up: up)
            let a = down.toFloat32(context: ctx), b = up.toFloat32(context: ctx)
            var expanded: String?
            for (from, to) in [("single_transformer_blocks.", "single_transformer_blocks."), ("transformer_blocks.", "transformer_blocks."),
                               ("sformer_blocks.", "transformer_blocks.")] where name.hasPrefix(from) {
                expanded = to + name.dropFirst(from.count)
                break
            }
            if let expanded {
                layers.append(.init(module: expanded, down: a, up: b, scale: 1))
            } else if let targets = table[name] {
                if targets.count == 1 {
                    layers.append(.init(module: targets[0], down: a, up: b, scale: 1))
                } else {
                    guard b.shape[0] % 3 == 0 else { throw .invalidInput("LoRA file \(file.path): \(name) has \(b.shape[0]) output rows, not 3 equal parts") }
                    for (t, part) in zip(targets, b.chunked(3, axis: 0)) { layers.append(.init(module: t, down: a, up: part, scale: 1)) }
                }
            } else {
                unmatched.append(name)
            }
        }
        if !unmatched.isEmpty { throw file.unmatched(unmatched, "match no layer of the FLUX.2 transformer", family: "FLUX.2") }
        return layers
    }

    /// kohya files: `lora_unet_<BFL name with "_">.lora_down/lora_up.weight` + `.alpha`.
    static func kohyaLayers(_ file: LoRAFile, config c: Flux2TransformerConfig, context ctx: ComputeContext) throws(ModelError) -> [LoRAFile.Layer] {
        var byKohya: [String: [String]] = [:]
        for (bfl, targets) in bflNames(c, kohya: true) { byKohya["lora_unet_" + bfl.replacingOccurrences(of: ".", with: "_")] = targets }
        var used = Set<String>()
        var layers: [LoRAFile.Layer] = []
        for (key, targets) in byKohya.sorted(by: { $0.key < $1.key }) {
            guard let down = file.tensors[key + ".lora_down.weight"] else { continue }
            let up = try file.tensor(key + ".lora_up.weight")
            let alpha = file.tensors[key + ".alpha"]
            try file.checkPair(key, down: down, up: up)
            used.formUnion([key + ".lora_down.weight", key + ".lora_up.weight", key + ".alpha"])
            if targets.count == 1 {
                let (a, b) = try LoRAFile.fold(down: down, up: up, alpha: alpha, context: ctx)
                layers.append(.init(module: targets[0], down: a, up: b, scale: 1))
                continue
            }
            // Fused qkv: the scale is a tensor in the file's dtype here (alpha / rank).
            let (a, b) = try LoRAFile.fold(down: down, up: up, alpha: alpha, scaleInFileDType: alpha != nil, context: ctx)
            let rank = a.shape[0], rows = b.shape[0] / 3
            guard b.shape[0] % 3 == 0 else { throw .invalidInput("LoRA file \(file.path): \(key) has \(b.shape[0]) output rows, not 3 equal parts") }
            if rank % 3 == 0, isBlockDiagonal(b, rows: rows, rank: rank / 3, context: ctx) {
                // Three independent rank/3 LoRAs stored side by side.
                let r = rank / 3, bv = b.floats(context: ctx)
                for (j, (t, aPart)) in zip(targets, a.chunked(3, axis: 0)).enumerated() {
                    var part = [Float](repeating: 0, count: rows * r)
                    for i in 0..<rows { for k in 0..<r { part[i * r + k] = bv[(j * rows + i) * rank + j * r + k] } }
                    layers.append(.init(module: t, down: aPart, up: Tensor(shape: [rows, r], floats: part), scale: 1))
                }
            } else {
                for (t, part) in zip(targets, b.chunked(3, axis: 0)) { layers.append(.init(module: t, down: a, up: part, scale: 1)) }
            }
        }
        let rest = file.names.filter { !used.contains($0) }
        if !rest.isEmpty { throw file.unmatched(rest, "match no layer of the FLUX.2 transformer (diffusers' kohya converter drops them)", family: "FLUX.2") }
        return layers
    }

    /// Whether `b` `[3·rows, 3·r]` is zero outside its three diagonal `[rows, r]` blocks.
    static func isBlockDiagonal(_ b: Tensor, rows: Int, rank r: Int, context ctx: ComputeContext) -> Bool {
        let v = b.floats(context: ctx), cols = 3 * r
        for j in 0..<3 {
            for i in 0..<rows {
                for k in 0..<cols where k / r != j {
                    if v[(j * rows + i) * cols + k] != 0 { return false }
                }
            }
        }
        return true
    }
}
