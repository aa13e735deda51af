import Foundation
import SafetensorsIO
import TensorKit

/// Writes a model folder the way mflux 0.24's `save` does (`Docs/MfluxFormat.md` §1), so mflux
/// loads it as its own: `tokenizer/` (the source's tokenizer files), then `vae/`, `transformer/`
/// and `text_encoder/`, each as shards `0.safetensors`, `1.safetensors`, … of at most 2 GiB with
/// metadata `quantization_level` and `mflux_version`, plus `model.safetensors.index.json`, and
/// `mflux_model.json` last. Tensors carry mflux's names, convolution weights are OHWI, every float
/// is bfloat16 (mflux casts to bf16 before quantizing), and with `bits` every linear and embedding
/// weight whose input width is a multiple of 64 is quantized in MLX's affine mode (group 64),
/// exactly as `nn.quantize` does. A source mflux already quantized keeps its stored layers (the
/// stored bits win). Each component's `config.json`, when the source has one, is copied too:
/// mflux ignores it, and it keeps the sizes exact when this folder is loaded here.
///
/// The folder is built under a temporary name next to `target` and renamed into place at the
/// end: an existing `target` is never touched, and a failed save leaves nothing behind.
public enum MfluxSaver {
    /// What a save wrote.
    public struct Report: Sendable {
        /// The stored quantization level (nil: unquantized).
        public let quantizationLevel: Int?
        /// Tensors written per component.
        public let tensors: [String: Int]
        /// Bytes of tensor data written.
        public let bytes: Int
    }

    /// mflux starts a new shard when the next tensor would take it over this many bytes.
    public static let maxShardBytes = 2 << 30

    /// Saves the model of `type` in `modelPath` (a diffusers folder or an mflux-saved one) to
    /// `target`. `bits`: quantize (3, 4, 5, 6 or 8) unless the source is stored quantized;
    /// `modelName`: the registry name recorded in `mflux_model.json`; `writer`: the
    /// `mflux_version` string. `progress` receives one line per component.
    public static func save(modelPath: String, type: any TextToImageModel.Type, to target: String, bits: Int?,
                            modelName: String, baseModel: String?, writer: String, context: ComputeContext,
                            loras: [LoRAWeights] = [],
                            progress: (String) -> Void = { _ in }) throws(ModelError) -> Report {
        let fm = FileManager.default
        if fm.fileExists(atPath: target) { throw .invalidInput("\(target) already exists; choose a new --path (nothing was written)") }
        if let bits, !QuantizedMatrix.supportedBits.contains(bits) {
            throw .invalidInput("quantization must be one of \(QuantizedMatrix.supportedBits.map(String.init).joined(separator: ", ")) bits, got \(bits)")
        }
        // LoRAs are baked into the transformer's weights first (as mflux's save does): W + Σ w·(α/r)·B·A.
        let adapters = loras.isEmpty ? nil : try type.init(modelPath: modelPath, options: LoadOptions(loras: loras)).loraSet
        let sources = try type.mfluxComponents.map { c throws(ModelError) in
            (c, try WeightLoader(folder: modelPath + "/" + c.name, component: c.name, naming: c.naming).source)
        }
        let stored = sources.lazy.compactMap { ($0.1 as? MfluxFormatSource)?.quantizationLevel }.first
        let level = stored ?? bits
        let parent = URL(fileURLWithPath: target).deletingLastPathComponent().path
        guard fm.fileExists(atPath: parent) else { throw .invalidInput("\(parent): no such folder") }
        let temp = parent + "/." + URL(fileURLWithPath: target).lastPathComponent + ".partial-\(getpid())"
        try? fm.removeItem(atPath: temp)
        var report: Report
        do {
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
            try copyFolder(modelPath + "/tokenizer", to: temp + "/tokenizer")
            var counts: [String: Int] = [:], bytes = 0
            for (component, source) in sources {
                let meta = ["quantization_level": level.map(String.init) ?? "None", "mflux_version": writer]
                let plan = try plan(source, naming: component.naming, bits: stored == nil ? bits : nil)
                let baked = component.name == "transformer" ? adapters : nil
                if baked != nil, source.tensorNames.contains(where: { source.info($0)?.dtype == .uint32 }) {
                    throw ModelError.invalidInput("cannot bake a LoRA into a model stored quantized; save the unquantized model with the LoRA (and -q)")
                }
                try writeComponent(plan, source: source, folder: temp + "/" + component.name, metadata: meta, context: context, loras: baked)
                if fm.fileExists(atPath: modelPath + "/" + component.name + "/config.json") {
                    try fm.copyItem(atPath: modelPath + "/" + component.name + "/config.json", toPath: temp + "/" + component.name + "/config.json")
                }
                counts[component.name] = plan.count
                bytes += plan.reduce(0) { $0 + $1.entry.byteCount }
                progress("\(component.name): \(plan.count) tensors")
            }
            try writeInfo(temp, modelName: modelName, baseModel: baseModel, writer: writer, level: level, bytes: bytes, loras: loras)
            report = Report(quantizationLevel: level, tensors: counts, bytes: bytes)
            try fm.moveItem(atPath: temp, toPath: target)
        } catch {
            try? fm.removeItem(atPath: temp)
            if let e = error as? ModelError { throw e }
            throw .checkpoint("cannot save to \(target): \((error as NSError).localizedDescription)")
        }
        return report
    }

    /// One output tensor: its mflux entry and how to make it from the source.
    struct Item {
        enum Part { case weight, scales, biases }
        enum Make { case copy(String), quantized(String, bits: Int, part: Part) }
        let entry: SafetensorsWriter.Entry
        let make: Make
    }

    /// The tensors to write for `source` (diffusers names) under `naming`.
    static func plan(_ source: any TensorSource, naming: MfluxNaming, bits: Int?) throws(ModelError) -> [Item] {
        var items: [Item] = []
        let names = Set(source.tensorNames)
        for name in source.tensorNames where !naming.notStored.contains(name) && name != "rotary_emb.inv_freq" {
            guard let info = source.info(name) else { continue }
            let out = naming.mfluxName(name)
            let isWeight = name.hasSuffix(".weight")
            if info.dtype == .uint32 || name.hasSuffix(".scales") || name.hasSuffix(".biases") && names.contains(String(name.dropLast(7)) + ".scales") {
                // Already quantized (an mflux source): kept as stored.
                let dtype: DType = info.dtype == .uint32 ? .uint32 : .bfloat16
                items.append(Item(entry: .init(name: out, dtype: dtype, shape: info.shape), make: .copy(name)))
                continue
            }
            guard info.dtype.isComputeFloat else {
                throw .unsupportedDType(component: source.path, name: name, dtype: info.dtype.safetensorsName)
            }
            if let bits, isWeight, info.shape.count == 2, info.shape[1] % 64 == 0 {
                let (rows, cols) = (info.shape[0], info.shape[1])
                let base = String(out.dropLast(".weight".count))
                items.append(Item(entry: .init(name: base + ".weight", dtype: .uint32, shape: [rows, cols * bits / 32]),
                                  make: .quantized(name, bits: bits, part: .weight)))
                items.append(Item(entry: .init(name: base + ".scales", dtype: .bfloat16, shape: [rows, cols / 64]),
                                  make: .quantized(name, bits: bits, part: .scales)))
                items.append(Item(entry: .init(name: base + ".biases", dtype: .bfloat16, shape: [rows, cols / 64]),
                                  make: .quantized(name, bits: bits, part: .biases)))
                continue
            }
            let shape = info.shape.count == 4 ? [info.shape[0], info.shape[2], info.shape[3], info.shape[1]] : info.shape
            items.append(Item(entry: .init(name: out, dtype: .bfloat16, shape: shape), make: .copy(name)))
        }
        return items
    }

    /// Writes `plan` into `folder` as mflux's shards and index.
    static func writeComponent(_ plan: [Item], source: any TensorSource, folder: String, metadata: [String: String],
                               context: ComputeContext, loras: LoRASet? = nil) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        // mflux's greedy split: a new shard when the next tensor would pass the limit.
        var shards: [[Item]] = [[]]
        var size = 0
        for item in plan {
            if size + item.entry.byteCount > maxShardBytes, !shards[shards.count - 1].isEmpty {
                shards.append([])
                size = 0
            }
            shards[shards.count - 1].append(item)
            size += item.entry.byteCount
        }
        var weightMap: [String: String] = [:]
        // One quantization feeds three tensors (possibly in two shards): kept until all are written.
        var quantized: [String: (QuantizedMatrix, left: Int)] = [:]
        for (i, shard) in shards.enumerated() {
            let file = "\(i).safetensors"
            let byName = Dictionary(uniqueKeysWithValues: shard.map { ($0.entry.name, $0) })
            try SafetensorsWriter.write(entries: shard.map(\.entry), metadata: metadata, to: folder + "/" + file) { name throws(SafetensorsError) in
                do {
                    return try produce(byName[name]!, source: source, cache: &quantized, context: context, loras: loras)
                } catch let e as SafetensorsError {
                    throw e
                } catch {
                    throw .invalidTensor(name: name, reason: "\(error)")
                }
            }
            for item in shard { weightMap[item.entry.name] = file }
        }
        let index: [String: Any] = ["metadata": metadata, "weight_map": weightMap]
        let data = try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"), options: .atomic)
    }

    /// The data of one output tensor.
    static func produce(_ item: Item, source: any TensorSource, cache: inout [String: (QuantizedMatrix, left: Int)],
                        context: ComputeContext, loras: LoRASet? = nil) throws -> Tensor {
        /// The weight `name`, with any LoRA adapters of its layer merged in (float32 sums).
        func weight(_ name: String) throws -> Tensor {
            let w = try source.tensor(name)
            guard name.hasSuffix(".weight"), w.rank == 2, let loras else { return w }
            let adapters = try loras.take(String(name.dropLast(7)), in: w.shape[1], out: w.shape[0])
            guard !adapters.isEmpty else { return w }
            var merged = w.toFloat32(context: context)
            for a in adapters {
                let product = context.linear(a.up, weight: a.down.permuted([1, 0]))  // B·A, [out, in]
                merged = context.add(merged, context.scaleShift(product, scale: a.scale, shift: 0))
            }
            return merged.converted(to: w.dtype == .float32 ? .float32 : w.dtype, context: context)
        }
        switch item.make {
        case .copy(let name):
            let t = try weight(name)
            defer { t.releaseResidentPages() }
            if t.dtype == .uint32 { return t }
            var out = t.converted(to: .bfloat16, context: context)
            if out.rank == 4 { out = out.permuted([0, 2, 3, 1]) }
            return out
        case .quantized(let name, let bits, let part):
            var (q, left) = try cache[name] ?? {
                let w = try weight(name)
                defer { w.releaseResidentPages() }
                return (try QuantizedMatrix.quantize(w.converted(to: .bfloat16, context: context), bits: bits, groupSize: 64, context: context), 3)
            }()
            left -= 1
            cache[name] = left == 0 ? nil : (q, left)
            switch part {
            case .weight: return q.packed
            case .scales: return q.scales
            case .biases: return q.biases
            }
        }
    }

    /// Copies the regular files of `source` into a new folder `target`.
    static func copyFolder(_ source: String, to target: String) throws {
        let fm = FileManager.default
        guard let files = try? fm.contentsOfDirectory(atPath: source) else {
            throw ModelError.checkpoint("\(source): no tokenizer folder to save")
        }
        try fm.createDirectory(atPath: target, withIntermediateDirectories: false)
        for f in files.sorted() where !f.hasPrefix(".") {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: source + "/" + f, isDirectory: &isDir), !isDir.boolValue else { continue }
            try fm.copyItem(atPath: source + "/" + f, toPath: target + "/" + f)
        }
    }

    /// `mflux_model.json` (informational; mflux never reads it back).
    static func writeInfo(_ folder: String, modelName: String, baseModel: String?, writer: String, level: Int?, bytes: Int,
                          loras: [LoRAWeights]) throws {
        let formatter = ISO8601DateFormatter()
        let now = formatter.string(from: Date())
        let info: [String: Any] = [
            "format_version": 1, "mflux_version": writer, "created_at": now, "updated_at": now,
            "model_name": modelName, "base_model": baseModel.map { $0 as Any } ?? NSNull(), "quantize": level.map { $0 as Any } ?? NSNull(),
            "size_gb": Double(bytes / 10_000_000) / 100, "upstream": NSNull(), "text_encoders": ["qwen3"],
            "loras": loras.map { ["source": URL(fileURLWithPath: $0.path).lastPathComponent, "scale": Double(String($0.scale)) ?? Double($0.scale)] as [String: Any] },
        ]
        let data = try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: folder + "/mflux_model.json"), options: .atomic)
    }
}
