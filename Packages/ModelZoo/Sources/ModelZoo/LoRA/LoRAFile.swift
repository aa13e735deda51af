import Foundation
import SafetensorsIO
import TensorKit

/// A LoRA `.safetensors` file as downloaded, and the steps every format shares: reading, the
/// `alpha / rank` folding diffusers' converters apply to non-diffusers files, and PEFT's scaling
/// from a diffusers file's `lora_adapter_metadata`.
public struct LoRAFile {
    /// The file.
    public let path: String
    /// Its tensors by name (`default.` infixes removed, as diffusers removes them).
    public let tensors: [String: Tensor]
    /// The string metadata.
    public let metadata: [String: String]

    /// Reads `path`; a missing or malformed file is a one-line error.
    public init(path: String) throws(ModelError) {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw .invalidInput("LoRA file \(path) does not exist")
        }
        do {
            let file = try SafetensorsFile(path: path)
            var t: [String: Tensor] = [:]
            for name in file.tensorNames {
                let key = name.replacingOccurrences(of: ".default.", with: ".").replacingOccurrences(of: "default.", with: "")
                t[key] = try file.tensor(name)
            }
            tensors = t
            metadata = file.metadata
            if let bad = t.first(where: { !$0.value.dtype.isComputeFloat }) {
                throw ModelError.invalidInput("LoRA file \(path): tensor \(bad.key) is \(bad.value.dtype.safetensorsName), not a float")
            }
        } catch let e as ModelError {
            throw e
        } catch let e as SafetensorsError {
            throw .invalidInput("LoRA file \(path): \(e.description)")
        } catch {
            throw .invalidInput("LoRA file \(path): \(error)")
        }
        guard !tensors.isEmpty else { throw .invalidInput("LoRA file \(path) holds no tensors") }
    }

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The tensor `name` or an error naming it.
    public func tensor(_ name: String) throws(ModelError) -> Tensor {
        guard let t = tensors[name] else { throw .invalidInput("LoRA file \(path): missing tensor \(name)") }
        return t
    }

    /// One LoRA layer of the file under diffusers' module name: `A` `[rank, in]`, `B` `[out, rank]`
    /// in float32 (as PEFT casts them), and PEFT's `alpha / rank` (1 for converted formats, whose
    /// alpha is folded into A and B).
    public struct Layer: Sendable {
        /// diffusers module name, e.g. `layers.0.attention.to_q`.
        public let module: String
        /// `[rank, in]` float32.
        public let down: Tensor
        /// `[out, rank]` float32.
        public let up: Tensor
        /// `alpha / rank` from the adapter config (before the adapter's weight).
        public let scale: Float
    }

    /// `down` and `up` with `alpha / rank` folded in as diffusers' converters do: `s = alpha/rank`,
    /// `s_down = s`, `s_up = 1`, doubling `s_down` and halving `s_up` while `2·s_down < s_up`;
    /// each product rounded to the file's dtype, then float32. `alpha` nil: unchanged.
    /// `scaleInFileDType`: the scale itself is first rounded to the file's dtype (kohya's fused
    /// qkv path divides a tensor alpha).
    static func fold(down: Tensor, up: Tensor, alpha: Tensor?, scaleInFileDType: Bool = false,
                     context ctx: ComputeContext) throws(ModelError) -> (Tensor, Tensor) {
        guard let alpha else { return (down.toFloat32(context: ctx), up.toFloat32(context: ctx)) }
        guard alpha.count == 1, alpha.dtype.isComputeFloat, down.rank == 2, down.shape[0] > 0,
              let a = alpha.floats(context: ctx).first, a.isFinite else {
            throw .invalidInput("LoRA alpha must be one finite number for a rank-\(down.shape.first ?? 0) layer, got \(alpha.dtype.safetensorsName) \(alpha.shape)")
        }
        let rank = down.shape[0]
        // Python divides the alpha as a number; kohya's fused path divides the tensor (file dtype).
        let s = scaleInFileDType
            ? Double(Tensor(shape: [], floats: [a / Float(rank)]).converted(to: alpha.dtype, context: ctx).floats(context: ctx)[0])
            : Double(a) / Double(rank)
        var sDown = s, sUp = 1.0
        // Only a positive scale is split (diffusers' loop never ends for 0 or a negative alpha).
        while s > 0, s.isFinite, sDown * 2 < sUp {
            sDown *= 2
            sUp /= 2
        }
        func scaled(_ t: Tensor, _ f: Double) -> Tensor {
            if f == 1 { return t.toFloat32(context: ctx) }
            let v = t.floats(context: ctx).map { $0 * Float(f) }
            return Tensor(shape: t.shape, floats: v).converted(to: t.dtype, context: ctx).toFloat32(context: ctx)
        }
        return (scaled(down, sDown), scaled(up, sUp))
    }

    /// PEFT's `lora_alpha / r` for `module` from the file's `lora_adapter_metadata` (keys prefixed
    /// `transformer.`; `alpha_pattern`/`rank_pattern` keys match a module by `(.*\.)?(key)$`;
    /// `use_rslora`: `alpha / sqrt(r)`); 1 without metadata (diffusers then sets alpha = r).
    func peftScale(module: String, rank: Int) throws(ModelError) -> Float {
        guard let text = metadata["lora_adapter_metadata"] else { return 1 }
        guard let data = text.data(using: .utf8), let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalidInput("LoRA file \(path): lora_adapter_metadata is not JSON")
        }
        func value(_ key: String) -> Any? { json["transformer." + key] ?? json[key] }
        func pattern(_ key: String) -> Double? {
            guard let patterns = value(key) as? [String: Any] else { return nil }
            for (p, v) in patterns {
                guard let re = try? NSRegularExpression(pattern: "^(.*\\.)?(\(p))$") else { continue }
                if re.firstMatch(in: module, range: NSRange(module.startIndex..., in: module)) != nil { return (v as? NSNumber)?.doubleValue }
            }
            return nil
        }
        let r = pattern("rank_pattern") ?? (value("r") as? NSNumber)?.doubleValue ?? Double(rank)
        let alpha = pattern("alpha_pattern") ?? (value("lora_alpha") as? NSNumber)?.doubleValue ?? r
        let rslora = (value("use_rslora") as? Bool) ?? false
        return Float(rslora ? alpha / r.squareRoot() : alpha / r)
    }

    /// The layers of a diffusers-format file (`transformer.<module>.lora_A.weight` /
    /// `lora_B.weight`) with PEFT's scaling; nil when the file is not in that format.
    func diffusersLayers(context ctx: ComputeContext) throws(ModelError) -> [Layer]? {
        let keys = names
        guard keys.allSatisfy({ $0.hasPrefix("transformer.") && ($0.hasSuffix(".lora_A.weight") || $0.hasSuffix(".lora_B.weight")) }) else { return nil }
        var layers: [Layer] = []
        for key in keys where key.hasSuffix(".lora_A.weight") {
            let module = String(key.dropFirst("transformer.".count).dropLast(".lora_A.weight".count))
            let a = try tensor(key), b = try tensor("transformer." + module + ".lora_B.weight")
            try checkPair(module, down: a, up: b)
            layers.append(Layer(module: module, down: a.toFloat32(context: ctx), up: b.toFloat32(context: ctx),
                                scale: try peftScale(module: module, rank: a.shape[0])))
        }
        return layers
    }

    /// Checks a pair before any use: `down` `[rank, in]` and `up` `[out, rank]`, all positive.
    func checkPair(_ name: String, down: Tensor, up: Tensor) throws(ModelError) {
        guard down.rank == 2, up.rank == 2, down.shape[0] > 0, down.shape[1] > 0, up.shape[0] > 0, up.shape[1] == down.shape[0] else {
            throw .invalidInput("LoRA file \(path): \(name) has A \(down.shape) and B \(up.shape); expected [rank, in] and [out, rank]")
        }
    }

    /// The other family a file's keys belong to, when they clearly do ("FLUX.2" or "Z-Image").
    func otherFamily(than family: String) -> String? {
        let keys = names.joined(separator: " ")
        let flux2 = ["double_blocks", "single_blocks", "single_transformer_blocks", "img_attn", "txt_attn", "to_qkv_mlp_proj"]
        let zimage = ["noise_refiner", "context_refiner", "feed_forward", "adaLN_modulation", "all_x_embedder", "cap_embedder"]
        if family != "FLUX.2", flux2.contains(where: keys.contains) { return "FLUX.2" }
        if family != "Z-Image", zimage.contains(where: keys.contains) { return "Z-Image" }
        return nil
    }

    /// A refusal naming the keys that match nothing (or the family the file is for).
    func unmatched(_ keys: [String], _ why: String, family: String) -> ModelError {
        if let other = otherFamily(than: family) {
            return .invalidInput("LoRA file \(path) is for \(other), not \(family): its layers (\(keys.sorted().first ?? "")...) do not exist in this model")
        }
        return unmatched(keys, why)
    }

    /// A refusal naming the keys that match nothing.
    func unmatched(_ keys: [String], _ why: String) -> ModelError {
        let shown = keys.sorted().prefix(4).joined(separator: ", ")
        return .invalidInput("LoRA file \(path): \(keys.count) key\(keys.count == 1 ? "" : "s") \(why): \(shown)\(keys.count > 4 ? ", ..." : "")")
    }
}

extension LoRASet {
    /// The adapters of `files` (in order, each at its weight) converted by `convert` (a model
    /// family's key formats) to layers; the adapter scale is `weight · alpha / rank`.
    public static func load(_ files: [LoRAWeights],
                            convert: (LoRAFile, ComputeContext) throws(ModelError) -> [LoRAFile.Layer]) throws(ModelError) -> LoRASet? {
        guard !files.isEmpty else { return nil }
        let ctx: ComputeContext
        do { ctx = try ComputeContext(threadCount: 1) } catch { throw .invalidInput("LoRA: \(error)") }
        var adapters: [String: [LoRAAdapter]] = [:]
        for f in files {
            guard f.scale.isFinite else { throw .invalidInput("LoRA scale \(f.scale) for \(f.path) is not a number") }
            let file = try LoRAFile(path: f.path)
            let layers = try convert(file, ctx)
            guard !layers.isEmpty else { throw .invalidInput("LoRA file \(f.path): no layer of this model found in it") }
            for l in layers {
                adapters[l.module, default: []].append(LoRAAdapter(down: l.down, up: l.up, scale: f.scale * l.scale))
            }
        }
        return LoRASet(adapters, source: files.map(\.path).joined(separator: ", "))
    }
}

extension LoRAWeights {
    /// The file a `--lora-paths` entry names: a path, or a Hugging Face repository in the cache,
    /// `ORG/NAME` (its one `.safetensors` file) or `ORG/NAME:file.safetensors`.
    public static func resolve(_ spec: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws(ModelError) -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: spec) { return spec }
        var repo = spec, file: String?
        if let colon = spec.lastIndex(of: ":"), spec[..<colon].contains("/") {
            repo = String(spec[..<colon])
            file = String(spec[spec.index(after: colon)...])
        }
        let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), !repo.hasPrefix(".") else {
            throw .invalidInput("LoRA file \(spec) does not exist")
        }
        guard let snapshot = HuggingFaceCache.snapshot(repoId: repo, marker: file ?? ".", environment: env) else {
            throw .invalidInput("LoRA \(spec): no such file, and \(repo)\(file.map { " with \($0)" } ?? "") is not in the Hugging Face cache (download it with: hf download \(repo))")
        }
        if let file { return snapshot + "/" + file }
        let files = ((try? fm.contentsOfDirectory(atPath: snapshot)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard files.count == 1 else {
            throw .invalidInput("LoRA \(spec): the repository holds \(files.isEmpty ? "no .safetensors file" : "\(files.count) .safetensors files (\(files.joined(separator: ", ")))"); name one as \(repo):FILE")
        }
        return snapshot + "/" + files[0]
    }
}
