import CallbackManager
import Foundation

/// Every model mflux-swift runs, by alias, repository id or pipeline folder. The CLI dispatches
/// through it: a folder's `model_index.json` picks the model class; an alias or repository id is
/// looked up in the Hugging Face cache.
public enum ModelRegistry {
    /// The model classes, one per diffusers pipeline class.
    public static let models: [any TextToImageModel.Type] = [ZImageTurbo.self, Flux2Klein.self]

    /// Every published variant.
    public static var descriptors: [ModelDescriptor] { models.flatMap { $0.variants } }

    /// The variant called `name` (alias or repository id, case-insensitive).
    public static func descriptor(named name: String) -> ModelDescriptor? {
        descriptors.first { $0.matches(name) }
    }

    /// A model found by ``resolve(_:environment:)``.
    public struct Resolved: Sendable {
        /// The pipeline folder.
        public let path: String
        /// The variant, when `--model` named one or a bundled model's folder (nil for other folders).
        public let descriptor: ModelDescriptor?

        /// A resolved model; see the properties.
        public init(path: String, descriptor: ModelDescriptor?) {
            self.path = path
            self.descriptor = descriptor
        }
    }

    /// Resolves `model`: an existing folder as is; else an alias or repository id of a known
    /// variant, found in the Hugging Face cache. One-line errors say what to do.
    public static func resolve(_ model: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws(ModelError) -> Resolved {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw .invalidInput("\(model) is a file; --model takes a diffusers pipeline folder or an alias (\(aliasList))")
            }
            // A bundled model's folder given by path keeps its descriptor (and defaults).
            let real = URL(fileURLWithPath: model).resolvingSymlinksInPath().path
            let bundled = descriptors.first { d in
                guard case .bundled(let rel) = d.source, let found = BundledModels.locate(rel) else { return false }
                return URL(fileURLWithPath: found).resolvingSymlinksInPath().path == real
            }
            return Resolved(path: model, descriptor: bundled)
        }
        guard let d = descriptor(named: model) else {
            if model.hasPrefix(".") || model.hasPrefix("/") || model.split(separator: "/").count > 2 {
                throw .invalidInput("model folder \(model) does not exist")
            }
            if model.contains("/") {
                // Any other repository in the cache (e.g. a model saved and uploaded by mflux,
                // such as a pre-quantized klein): its snapshot, recognised by its contents.
                if let path = HuggingFaceCache.snapshot(repoId: model, environment: env)
                    ?? HuggingFaceCache.snapshot(repoId: model, marker: "transformer/0.safetensors", environment: env) {
                    return Resolved(path: path, descriptor: nil)
                }
                throw .invalidInput("model folder \(model) does not exist, and \(model) is neither a known repository (\(aliasList)) nor in the Hugging Face cache")
            }
            throw .invalidInput("unknown model \(model): use a diffusers pipeline folder or one of \(aliasList)")
        }
        switch d.source {
        case .bundled(let rel):
            guard let path = BundledModels.locate(rel) else {
                throw .checkpoint("\(model) ships with the mflux-swift repository (\(rel)); run the mflux built in a clone of it, or pass --model with the folder")
            }
            return Resolved(path: path, descriptor: d)
        case .huggingFace(let repoId):
            guard let path = HuggingFaceCache.snapshot(repoId: repoId, environment: env) else {
                throw .checkpoint("\(model) (\(repoId)) is not in the Hugging Face cache at \(HuggingFaceCache.root(environment: env)); download it with: hf download \(repoId)")
            }
            return Resolved(path: path, descriptor: d)
        }
    }

    /// The model class for the pipeline in `path`.
    public static func modelClass(path: String) throws(ModelError) -> any TextToImageModel.Type {
        if let saved = MfluxSavedFolder(path: path) {
            let transformer = try saved.component("transformer", naming: .identical)
            if ZImageTurbo.isMfluxTransformer(try saved.component("transformer", naming: ZImageTransformer2DModel.mfluxNaming)) { return ZImageTurbo.self }
            if Flux2Klein.isMfluxTransformer(try saved.component("transformer", naming: Flux2Transformer2DModel.mfluxNaming)) { return Flux2Klein.self }
            throw .invalidConfig("\(path): saved by mflux \(saved.version), but its transformer (\(transformer.tensorNames.count) tensors) is neither Z-Image's nor FLUX.2-klein's")
        }
        let cls = try ModelIndex.pipelineClass(modelPath: path)
        guard let m = models.first(where: { $0.pipelineClass == cls }) else {
            throw .invalidConfig("\(path): pipeline \(cls) is not supported (supported: \(models.map { $0.pipelineClass }.joined(separator: ", ")))")
        }
        return m
    }

    /// Opens the model in `path` and returns its generator.
    public static func generator(path: String, residency: ResidencyPolicy = .balanced,
                                 callbacks: CallbackManager = CallbackManager(),
                                 options: LoadOptions = LoadOptions()) throws(ModelError) -> any ImageGenerating {
        try makeGenerator(try modelClass(path: path), path: path, residency: residency, callbacks: callbacks, options: options)
    }

    private static func makeGenerator<M: TextToImageModel>(_ type: M.Type, path: String, residency: ResidencyPolicy,
                                                          callbacks: CallbackManager, options: LoadOptions) throws(ModelError) -> any ImageGenerating {
        Generator(model: try M(modelPath: path, options: options), residency: residency, callbacks: callbacks)
    }

    /// The default sampling settings for a resolved model: a named variant's, else the model's
    /// own (which may depend on its folder, e.g. klein's `is_distilled`).
    public static func defaults(for resolved: Resolved, generator: any ImageGenerating) -> GenerationDefaults {
        resolved.descriptor?.defaults ?? generator.defaults
    }

    private static var aliasList: String { descriptors.map(\.name).joined(separator: ", ") }
}
