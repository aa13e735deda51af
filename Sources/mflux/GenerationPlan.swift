import ArgumentParser
import Foundation
import ImageIO
import ModelZoo
import TensorKit

/// What `mflux generate` will do, from its flags and `--config-from-metadata` (flags win, then
/// the metadata file, then the model's defaults), checked before any weight is loaded.
struct GenerationPlan {
    /// The model as the user named it, and where it resolved.
    let modelName: String
    let resolved: ModelRegistry.Resolved
    let prompt: PromptSource
    let negativePrompt: String?
    let seeds: [UInt64]
    /// Whether the seeds were drawn at random (and should be printed).
    let seedsWereDrawn: Bool
    private let sampling: SamplingOptions
    private let precisionFlag: ModelOptions.Precision?
    private let quantizeFlag: Int?
    private let metadata: GenerationMetadata?
    /// Image to image: the input picture, its path and mflux's `--image-strength` (share kept).
    let image: RGBImage?
    let imagePath: String?
    let imageStrength: Double
    /// Editing: the reference images and their paths.
    let referenceImages: [RGBImage]
    let referencePaths: [String]

    init(model: ModelOptions, prompt p: PromptOptions, sampling s: SamplingOptions, image i: ImageOptions = ImageOptions()) throws {
        let metadata = try s.configFromMetadata.map { (path: String) throws(ModelError) in try GenerationMetadata.read(path: path) }
        self.metadata = metadata
        sampling = s
        precisionFlag = model.precision
        quantizeFlag = model.quantize
        // Model: the flag, else the metadata's (its resolved folder when the name no longer resolves).
        guard let name = model.model ?? metadata?.model else { throw CLIError("--model is required (or --config-from-metadata with a model)") }
        modelName = name
        do {
            resolved = try ModelRegistry.resolve(name)
        } catch {
            guard model.model == nil, let folder = metadata?.modelPath, FileManager.default.fileExists(atPath: folder) else { throw error }
            resolved = ModelRegistry.Resolved(path: folder, descriptor: nil)
        }
        // Prompt.
        if let file = p.promptFile {
            prompt = .file(file)
            _ = try prompt.read()  // unreadable or empty: fail before loading anything
        } else if p.prompt == "-" {
            prompt = .text(try PromptSource.readStandardInput())
        } else if let text = p.prompt ?? metadata?.prompt {
            prompt = .text(text)
        } else {
            throw CLIError("--prompt or --prompt-file is required (or --config-from-metadata with a prompt)")
        }
        negativePrompt = p.negativePrompt ?? metadata?.negativePrompt
        // Input picture: the flag, else the metadata's; read now (a bad file fails before loading).
        imagePath = i.imagePath ?? metadata?.imagePath
        imageStrength = i.imageStrength ?? metadata?.imageStrength ?? 0.4
        guard imageStrength.isFinite, imageStrength >= 0, imageStrength <= 1 else {
            throw CLIError("image strength \(imageStrength) must be from 0 to 1")
        }
        if let path = imagePath {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw CLIError("input image \(path) does not exist")
            }
            do {
                image = try PNG.read(path).image
            } catch {
                throw CLIError("input image \(path): \(error.description) (PNG images are supported)")
            }
        } else {
            image = nil
        }
        referencePaths = i.imagePaths
        referenceImages = try i.imagePaths.map { path in
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw CLIError("reference image \(path) does not exist")
            }
            do {
                return try PNG.read(path).image
            } catch {
                throw CLIError("reference image \(path): \(error) (PNG images are supported)")
            }
        }
        if image != nil, !referenceImages.isEmpty { throw CLIError("--image-path (image to image) and --image-paths (editing) cannot be combined") }
        // Seeds: --seed, else --auto-seeds, else the metadata's, else one random seed.
        if !s.seed.isEmpty {
            seeds = s.seed
            seedsWereDrawn = false
        } else if let k = s.autoSeeds {
            var picked = Set<UInt64>()
            var ordered: [UInt64] = []
            while ordered.count < k {
                let v = UInt64.random(in: 0...10_000_000)
                if picked.insert(v).inserted { ordered.append(v) }
            }
            seeds = ordered
            seedsWereDrawn = true
        } else if let seed = metadata?.seed {
            seeds = [seed]
            seedsWereDrawn = false
        } else {
            seeds = [UInt64.random(in: 0...UInt64(UInt32.max))]
            seedsWereDrawn = true
        }
    }

    /// Quantization bits: the flag, else the metadata file's, else none.
    var quantize: Int? { quantizeFlag ?? metadata?.quantize }

    /// Whether the precision was asked for (flag or metadata file) rather than chosen for the model.
    var precisionWasAsked: Bool { precisionFlag != nil || metadata?.precision != nil }

    /// The compute precision: the flag, else the metadata file's, else the model's default
    /// (``ModelRegistry/defaultPrecision(path:)``: bf16 for published bf16 checkpoints on CPUs with
    /// AVX512-BF16, else fp32).
    var precision: ComputePrecision {
        get throws {
            let name = precisionFlag?.rawValue ?? metadata?.precision ?? ModelRegistry.defaultPrecision(path: resolved.path).rawValue
            guard let p = ComputePrecision(rawValue: name) else {
                throw CLIError("precision \(name) from \(sampling.configFromMetadata ?? "the metadata") is not supported (fp32, bf16)")
            }
            return p
        }
    }

    /// The sampling settings: flags, then the metadata file, then `defaults`.
    func settings(defaults d: GenerationDefaults) throws -> (steps: Int, width: Int, height: Int, guidance: Float) {
        let steps = sampling.steps ?? metadata?.steps ?? d.steps
        // With an input picture the size defaults to its own, rounded down to a multiple of 16 (diffusers).
        // With reference images, the first one's encoded size (diffusers' Flux2KleinPipeline).
        let reference = referenceImages.first.map { Flux2ReferenceImages.encodedSize(width: $0.width, height: $0.height) }
        let width = sampling.width ?? metadata?.width ?? image.map { $0.width - $0.width % 16 } ?? reference?.width ?? d.width
        let height = sampling.height ?? metadata?.height ?? image.map { $0.height - $0.height % 16 } ?? reference?.height ?? d.height
        if image != nil, width == 0 || height == 0 {
            throw CLIError("the input image is \(image!.width)x\(image!.height): under 16 pixels a side; give --width and --height")
        }
        let guidance = sampling.guidance ?? metadata?.guidance ?? d.guidance
        if metadata != nil {
            // Values from a file get the flags' checks.
            var check = sampling
            (check.steps, check.width, check.height, check.guidance) = (steps, width, height, guidance)
            do { try check.validate() } catch let e as ValidationError { throw CLIError("\(sampling.configFromMetadata!): \(e.message)") }
        }
        return (steps, width, height, guidance)
    }
}

/// Where the prompt comes from.
enum PromptSource {
    case text(String)
    /// A file, read again before each image (edit it between seeds, as with mflux).
    case file(String)

    func read() throws -> String {
        switch self {
        case .text(let t): return t
        case .file(let path):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError("prompt file \(path) does not exist") }
            guard !isDir.boolValue, let data = FileManager.default.contents(atPath: path) else { throw CLIError("prompt file \(path) cannot be read") }
            guard let text = String(data: data, encoding: .utf8) else { throw CLIError("prompt file \(path) is not UTF-8 text") }
            let prompt = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !prompt.isEmpty else { throw CLIError("prompt file \(path) is empty") }
            return prompt
        }
    }

    /// The whole of standard input, trimmed (`--prompt -`).
    static func readStandardInput() throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("the prompt on standard input is not UTF-8 text") }
        let prompt = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !prompt.isEmpty else { throw CLIError("no prompt on standard input") }
        return prompt
    }
}
