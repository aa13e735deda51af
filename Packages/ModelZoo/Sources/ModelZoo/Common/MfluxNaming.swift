/// How mflux (0.24) names a component's tensors where its module paths differ from diffusers'
/// (`Docs/MfluxFormat.md` §3): a list of prefix rules, read in both directions — diffusers → mflux
/// when saving, mflux → diffusers when loading a folder mflux saved. Everything no rule matches
/// has the same name in both.
///
/// A rule maps the leading dot-separated segments of a name; in a pattern `#` stands for one
/// all-digit segment and `*` for any one segment, carried over in order (e.g.
/// `transformer_blocks.#.attn.to_out.0` ↔ `transformer_blocks.#.attn.to_out`). An empty mflux
/// pattern drops the matched prefix (transformers' `model.` of a causal LM).
public struct MfluxNaming: Sendable {
    /// One renaming: `diffusers` ↔ `mflux` prefix patterns.
    public struct Rule: Sendable {
        /// The diffusers/transformers prefix pattern.
        public let diffusers: String
        /// The mflux prefix pattern.
        public let mflux: String

        /// A rule mapping the `diffusers` prefix pattern to the `mflux` one.
        public init(_ diffusers: String, _ mflux: String) {
            self.diffusers = diffusers
            self.mflux = mflux
        }
    }

    /// The renamings.
    public let rules: [Rule]
    /// Diffusers tensors mflux does not store (e.g. `bn.num_batches_tracked`, `lm_head.weight`):
    /// dropped when saving.
    public let notStored: Set<String>

    /// Naming with `rules` and the diffusers names mflux does not store.
    public init(rules: [Rule] = [], notStored: Set<String> = []) {
        self.rules = rules
        self.notStored = notStored
    }

    /// Names that are the same in mflux and diffusers.
    public static let identical = MfluxNaming()

    /// The mflux name of the diffusers tensor `name`.
    public func mfluxName(_ name: String) -> String { rename(name, from: \.diffusers, to: \.mflux) }

    /// The diffusers name of the mflux tensor `name`.
    public func diffusersName(_ name: String) -> String { rename(name, from: \.mflux, to: \.diffusers) }

    private func rename(_ name: String, from: KeyPath<Rule, String>, to: KeyPath<Rule, String>) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for rule in rules {
            let pattern = Self.segments(rule[keyPath: from])
            guard !pattern.isEmpty, pattern.count < parts.count else { continue }
            var captured: [String] = []
            var matched = true
            for (p, s) in zip(pattern, parts) {
                if p == "#" {
                    guard !s.isEmpty, s.allSatisfy(\.isNumber) else { matched = false; break }
                    captured.append(s)
                } else if p == "*" {
                    captured.append(s)
                } else if p != s {
                    matched = false
                    break
                }
            }
            guard matched else { continue }
            var next = captured.makeIterator()
            let head = Self.segments(rule[keyPath: to]).map { $0 == "#" || $0 == "*" ? (next.next() ?? $0) : $0 }
            return (head + parts[pattern.count...]).joined(separator: ".")
        }
        return name
    }

    private static func segments(_ pattern: String) -> [String] {
        pattern.isEmpty ? [] : pattern.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }
}

extension MfluxNaming {
    /// The safetensors metadata keys by which mflux recognises a component it saved.
    public static let metadataKeys = ["quantization_level", "mflux_version"]

    /// Whether a component's metadata marks it as saved by mflux in its own format.
    public static func isMfluxFormat(metadata: [String: String]) -> Bool {
        metadataKeys.contains { metadata[$0] != nil }
    }

    /// The stored quantization level of mflux metadata: nil for `None`/`null`/empty (unquantized).
    public static func quantizationLevel(metadata: [String: String]) -> Int? {
        guard let v = metadata["quantization_level"], !["None", "none", "null", ""].contains(v) else { return nil }
        return Int(v)
    }
}
