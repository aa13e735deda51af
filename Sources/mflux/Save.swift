import ArgumentParser
import Foundation
import ModelZoo
import TensorKit

/// `mflux save`: writes a model as mflux 0.24's `mflux-save` does (optionally quantized), a folder
/// mflux loads as its own and `mflux generate --model` loads back.
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save a model in mflux's format, optionally quantized (-q), for mflux and mflux-swift.",
        discussion: """
            Writes tokenizer/, vae/, transformer/ and text_encoder/ as mflux 0.24 does: shards \
            0.safetensors, 1.safetensors, ... of at most 2 GiB with metadata quantization_level and \
            mflux_version, an index per component, mflux's tensor names and layouts, bf16 weights; \
            with -q every linear and embedding layer in MLX's affine quantization (group 64). A model \
            already stored quantized keeps its bits. The folder is written under a temporary name and \
            renamed at the end; an existing --path is never overwritten.
            """)

    @Option(name: [.customShort("m"), .long], help: ArgumentHelp("Alias, Hugging Face repository id, diffusers pipeline folder or mflux-saved folder.", valueName: "model"),
            completion: .list(ModelRegistry.descriptors.map(\.name)))
    var model: String

    @Option(name: [.customShort("q"), .long], help: ArgumentHelp("Quantize to 3, 4, 5, 6 or 8 bits (MLX affine, group 64).", valueName: "bits"))
    var quantize: Int?

    @Option(name: .long, help: ArgumentHelp("Where to write the folder (must not exist; default: $MFLUX_MODELS_DIR or the current folder, named <model>-mflux-q<bits> or -bf16).", valueName: "dir"),
            completion: .directory)
    var path: String?

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: the online CPUs).", valueName: "n"))
    var threads: Int?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("LoRA files to bake into the transformer's weights before saving (as mflux-save does).", valueName: "file"),
            completion: .file(extensions: ["safetensors"]))
    var loraPaths: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("A weight per LoRA file (default 1.0 each).", valueName: "scale"))
    var loraScales: [Float] = []

    func validate() throws {
        if let quantize, !QuantizedMatrix.supportedBits.contains(quantize) {
            throw ValidationError("--quantize must be 3, 4, 5, 6 or 8, got \(quantize)")
        }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
        if loraScales.count > loraPaths.count {
            throw ValidationError("--lora-scales has \(loraScales.count) values for \(loraPaths.count) --lora-paths")
        }
    }

    func run() throws {
        let resolved = try ModelRegistry.resolve(model)
        let type = try ModelRegistry.modelClass(path: resolved.path)
        let saved = MfluxSavedFolder(path: resolved.path)
        if let stored = saved?.quantizationLevel, let quantize {
            Log.line("note: the model is stored quantized to \(stored) bits; the stored bits win over -q \(quantize)")
        }
        let level = saved?.quantizationLevel ?? quantize
        let folderName = URL(fileURLWithPath: resolved.path).standardizedFileURL.lastPathComponent
        let name = resolved.descriptor?.repoId ?? resolved.descriptor?.name ?? folderName
        let baseModel = resolved.descriptor?.name ?? saved?.modelName
        let target: String
        if let path {
            target = path
        } else {
            let dir = ProcessInfo.processInfo.environment["MFLUX_MODELS_DIR"] ?? FileManager.default.currentDirectoryPath
            let base = resolved.descriptor?.repoId.map { String($0.split(separator: "/").last!) } ?? resolved.descriptor?.name ?? folderName
            target = dir + "/" + base + "-mflux-" + (level.map { "q\($0)" } ?? "bf16")
        }
        let ctx = try ComputeContext(threadCount: threads)
        let start = Date()
        let loras = try loraPaths.enumerated().map { i, p in
            LoRAWeights(path: try LoRAWeights.resolve(p), scale: i < loraScales.count ? loraScales[i] : 1)
        }
        let report = try MfluxSaver.save(modelPath: resolved.path, type: type, to: target, bits: quantize, modelName: name, baseModel: baseModel,
                                         writer: "mflux-swift \(VersionReport.version)", context: ctx, loras: loras) { Log.line($0) }
        Log.line(String(format: "saved %@ (%@, %.2f GB) in %.1f s", name, report.quantizationLevel.map { "\($0)-bit" } ?? "bf16",
                        Double(report.bytes) / 1e9, Date().timeIntervalSince(start)))
        Log.path(target)
    }
}
