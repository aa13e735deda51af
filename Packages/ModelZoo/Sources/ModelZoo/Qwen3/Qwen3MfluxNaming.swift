extension Qwen3TextEncoder {
    /// transformers ↔ mflux names of the text encoder: mflux stores the decoder without the causal
    /// LM's `model.` prefix and without `lm_head.weight`.
    public static let mfluxNaming = MfluxNaming(rules: [.init("model", "")], notStored: ["lm_head.weight"])
}
