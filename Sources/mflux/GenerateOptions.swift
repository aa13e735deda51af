import ArgumentParser
import Foundation
import ModelZoo
import TensorKit

/// `--model`, `--low-ram`, `--precision`, `--threads`, `--quantize`.
struct ModelOptions: ParsableArguments {
    @Option(name: [.customShort("m"), .long], help: ArgumentHelp("Alias, Hugging Face repository id or diffusers pipeline folder (default: from --config-from-metadata).", valueName: "model"),
            completion: .list(ModelRegistry.descriptors.map(\.name)))
    var model: String?

    @Flag(name: .long, help: "Release every component as soon as its stage is done (less memory, reloads per image).")
    var lowRam = false

    @Option(name: .long, help: "Matrix-product precision: fp32, or bf16 (bf16 operands, fp32 accumulation; CPUs with AVX512-BF16, else fp32 with a note). Default: bf16 for published bf16 checkpoints on CPUs with AVX512-BF16, else fp32.")
    var precision: Precision?

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: the online CPUs).", valueName: "n"))
    var threads: Int?

    @Option(name: [.customShort("q"), .long], help: ArgumentHelp("Quantize linear layers to 3, 4, 5, 6 or 8 bits as they load (MLX affine, group 64, as mflux -q); products on integer kernels.", valueName: "bits"))
    var quantize: Int?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("LoRA files for the transformer (diffusers/PEFT, kohya, ai-toolkit or BFL keys), or Hugging Face repositories in the cache (ORG/NAME or ORG/NAME:file.safetensors).", valueName: "file"),
            completion: .file(extensions: ["safetensors"]))
    var loraPaths: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("A weight per LoRA file, in order (default 1.0 each).", valueName: "scale"))
    var loraScales: [Float] = []

    /// Compute precisions.
    enum Precision: String, ExpressibleByArgument, CaseIterable {
        case fp32, bf16
    }

    func validate() throws {
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
        if let quantize, !QuantizedMatrix.supportedBits.contains(quantize) {
            throw ValidationError("--quantize must be 3, 4, 5, 6 or 8, got \(quantize)")
        }
        if loraScales.count > loraPaths.count {
            throw ValidationError("--lora-scales has \(loraScales.count) values for \(loraPaths.count) --lora-paths")
        }
        if let bad = loraScales.first(where: { !$0.isFinite }) { throw ValidationError("--lora-scales must be numbers, got \(bad)") }
    }

    /// The LoRA files with their weights (missing weights are 1.0, as in mflux), resolved.
    func loras() throws -> [LoRAWeights] {
        try loraPaths.enumerated().map { i, p in
            LoRAWeights(path: try LoRAWeights.resolve(p), scale: i < loraScales.count ? loraScales[i] : 1)
        }
    }
}

/// `--image-path`, `--image-strength` (image to image) and `--image-paths` (editing), mflux's flags.
struct ImageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Start from this picture (PNG; image to image, Z-Image). Resized to --width/--height (default: its own size rounded down to a multiple of 16).", valueName: "file"),
            completion: .file(extensions: ["png"]))
    var imagePath: String?

    @Option(name: .long, help: ArgumentHelp("How much of the input picture is kept, 0-1 (mflux's meaning; diffusers' strength is 1 minus this; default 0.4).", valueName: "s"))
    var imageStrength: Double?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Reference images to edit from (PNG; FLUX.2-klein). Without --width/--height the output takes the first one's size (at most 1024² pixels, multiples of 16).", valueName: "file"),
            completion: .file(extensions: ["png"]))
    var imagePaths: [String] = []

    func validate() throws {
        if let s = imageStrength {
            guard s.isFinite, s >= 0, s <= 1 else { throw ValidationError("--image-strength must be from 0 to 1, got \(s)") }
            guard imagePath != nil else { throw ValidationError("--image-strength needs --image-path") }
        }
    }
}

/// `--prompt`, `--prompt-file`, `--negative-prompt`.
struct PromptOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The prompt; - reads it from standard input.", valueName: "text"))
    var prompt: String?

    @Option(name: .long, help: ArgumentHelp("Read the prompt from a file (re-read before each seed, as mflux does).", valueName: "file"),
            completion: .file())
    var promptFile: String?

    @Option(name: .long, help: ArgumentHelp("Negative prompt (used when the model runs classifier-free guidance).", valueName: "text"))
    var negativePrompt: String?

    func validate() throws {
        if prompt != nil && promptFile != nil { throw ValidationError("--prompt and --prompt-file cannot be used together") }
        if let prompt, prompt != "-", prompt.allSatisfy(\.isWhitespace) { throw ValidationError("--prompt is empty") }
    }
}

/// `--seed`, `--auto-seeds`, `--steps`, `--width`, `--height`, `--guidance`, `--config-from-metadata`.
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("One or more seeds (default: random, printed); several seeds load the model once and write NAME_seed_N.png.", valueName: "seed"))
    var seed: [UInt64] = []

    @Option(name: .long, help: ArgumentHelp("Generate K images with random seeds (ignored when --seed is given).", valueName: "K"))
    var autoSeeds: Int?

    @Option(name: .long, parsing: .unconditional, help: "Denoising steps (default: the model's, e.g. 9 for z-image-turbo).")
    var steps: Int?

    @Option(name: .long, parsing: .unconditional, help: "Image width in pixels, a multiple of 16 (default: the model's).")
    var width: Int?

    @Option(name: .long, parsing: .unconditional, help: "Image height in pixels, a multiple of 16 (default: the model's).")
    var height: Int?

    @Option(name: .long, parsing: .unconditional, help: "Guidance scale (default: the model's; z-image-turbo: 0, off).")
    var guidance: Float?

    @Option(name: [.customShort("C"), .long], help: ArgumentHelp("Reuse the settings of an image's metadata (a .metadata.json sidecar or a PNG written by mflux); flags given here win.", valueName: "file"),
            completion: .file())
    var configFromMetadata: String?

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let autoSeeds, autoSeeds < 1 { throw ValidationError("--auto-seeds must be at least 1, got \(autoSeeds)") }
        if let autoSeeds, autoSeeds > 10_000 { throw ValidationError("--auto-seeds must be at most 10000, got \(autoSeeds)") }
        for (name, value) in [("--width", width), ("--height", height)] {
            guard let v = value else { continue }
            guard v > 0 else { throw ValidationError("\(name) must be positive, got \(v)") }
            guard v % 16 == 0 else { throw ValidationError("\(name) must be a multiple of 16, got \(v)") }
            guard v <= 8192 else { throw ValidationError("\(name) must be at most 8192, got \(v)") }
        }
        if let guidance, !(guidance.isFinite && guidance >= 0) { throw ValidationError("--guidance must be a number >= 0, got \(guidance)") }
    }
}

/// `--output`, `--metadata`, `--stepwise-image-output-dir`, `--verbose`.
struct OutputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("Output PNG; {seed} is replaced by the seed; several seeds add _seed_N; an existing file is never overwritten (_1, _2, ... is appended).", valueName: "path"),
            completion: .file(extensions: ["png"]))
    var output = "image.png"

    @Flag(name: .long, help: "Also write the settings as JSON next to the image (NAME.metadata.json).")
    var metadata = false

    @Option(name: .long, help: ArgumentHelp("Write every step's image and a composite strip into this folder.", valueName: "dir"),
            completion: .directory)
    var stepwiseImageOutputDir: String?

    @Flag(name: .long, help: "Print each step's time and the peak memory.")
    var verbose = false

    func validate() throws {
        guard output.lowercased().hasSuffix(".png") else { throw ValidationError("--output must be a .png file, got \(output)") }
        let dir = (output as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) else {
            throw ValidationError("output folder \(dir) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir.isEmpty ? "." : dir) else {
            throw ValidationError("output folder \(dir.isEmpty ? "." : dir) is not writable")
        }
        if let s = stepwiseImageOutputDir, FileManager.default.fileExists(atPath: s, isDirectory: &isDir), !isDir.boolValue {
            throw ValidationError("--stepwise-image-output-dir \(s) is a file, not a folder")
        }
    }
}
