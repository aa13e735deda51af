/// A published model the registry knows: its names, where it comes from, and its defaults.
public struct ModelDescriptor: Sendable, Equatable {
    /// The alias shown first (e.g. "z-image-turbo").
    public let name: String
    /// Other accepted names (matched case-insensitively, like `name`).
    public let aliases: [String]
    /// The Hugging Face repository id (e.g. "Tongyi-MAI/Z-Image-Turbo").
    public let repoId: String
    /// The diffusers pipeline class of its folder.
    public let pipelineClass: String
    /// The model family folder in ModelZoo ("ZImage", "Flux2").
    public let family: String
    /// Default sampling settings.
    public let defaults: GenerationDefaults

    /// A descriptor; see the properties.
    public init(name: String, aliases: [String] = [], repoId: String, pipelineClass: String, family: String, defaults: GenerationDefaults) {
        self.name = name
        self.aliases = aliases
        self.repoId = repoId
        self.pipelineClass = pipelineClass
        self.family = family
        self.defaults = defaults
    }

    /// Whether `text` names this model (an alias, case-insensitively, or the repository id).
    public func matches(_ text: String) -> Bool {
        let t = text.lowercased()
        return ([name] + aliases).contains { $0.lowercased() == t } || repoId.lowercased() == t
    }

    /// The command that downloads it.
    public var downloadCommand: String { "hf download \(repoId)" }
}
