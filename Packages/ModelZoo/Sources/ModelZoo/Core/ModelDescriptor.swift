/// A published model the registry knows: its names, where it comes from, and its defaults.
public struct ModelDescriptor: Sendable, Equatable {
    /// Where a model's folder comes from.
    public enum Source: Sendable, Equatable {
        /// A Hugging Face repository, found in the local hub cache.
        case huggingFace(repoId: String)
        /// A folder that ships with mflux-swift, relative to the repository root (found from the
        /// running executable or the current directory).
        case bundled(path: String)
    }

    /// The alias shown first (e.g. "z-image-turbo").
    public let name: String
    /// Other accepted names (matched case-insensitively, like `name`).
    public let aliases: [String]
    /// Where its folder comes from.
    public let source: Source
    /// The diffusers pipeline class of its folder.
    public let pipelineClass: String
    /// The model family folder in ModelZoo ("ZImage", "Flux2").
    public let family: String
    /// Default sampling settings.
    public let defaults: GenerationDefaults

    /// A model from a Hugging Face repository (e.g. "Tongyi-MAI/Z-Image-Turbo").
    public init(name: String, aliases: [String] = [], repoId: String, pipelineClass: String, family: String, defaults: GenerationDefaults) {
        self.init(name: name, aliases: aliases, source: .huggingFace(repoId: repoId), pipelineClass: pipelineClass, family: family, defaults: defaults)
    }

    /// A model from any source.
    public init(name: String, aliases: [String] = [], source: Source, pipelineClass: String, family: String, defaults: GenerationDefaults) {
        self.name = name
        self.aliases = aliases
        self.source = source
        self.pipelineClass = pipelineClass
        self.family = family
        self.defaults = defaults
    }

    /// The Hugging Face repository id (nil for a bundled model).
    public var repoId: String? {
        if case .huggingFace(let id) = source { return id }
        return nil
    }

    /// Whether `text` names this model (an alias, case-insensitively, or the repository id).
    public func matches(_ text: String) -> Bool {
        let t = text.lowercased()
        return ([name] + aliases).contains { $0.lowercased() == t } || repoId?.lowercased() == t
    }

    /// The command that downloads it (nil for a bundled model).
    public var downloadCommand: String? { repoId.map { "hf download \($0)" } }
}
