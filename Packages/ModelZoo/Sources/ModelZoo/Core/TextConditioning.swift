import Schedulers
import TensorKit

/// A loaded text encoder that turns one prompt into the features a model's transformer reads.
public protocol PromptEncoding {
    /// The features of `prompt` (shape per model: Z-Image `[L, hidden]`, klein `[512, 3·hidden]`).
    func encode(_ prompt: String, context: ComputeContext) throws(ModelError) -> Tensor
}

/// Encoded text: the prompt's features and, under classifier-free guidance, the negative prompt's.
public struct TextConditioning: Sendable {
    /// The prompt's features.
    public let prompt: Tensor
    /// The negative prompt's features (nil without guidance).
    public let negative: Tensor?

    /// Encoded text (e.g. from exported embeddings).
    public init(prompt: Tensor, negative: Tensor?) {
        self.prompt = prompt
        self.negative = negative
    }

    /// `text` encoded by `encoder`: the prompt, then the negative prompt when there is one.
    public init(_ text: TextInputs, encoder: some PromptEncoding, context ctx: ComputeContext) throws(ModelError) {
        prompt = try encoder.encode(text.prompt, context: ctx)
        negative = try text.negativePrompt.map { (s: String) throws(ModelError) -> Tensor in try encoder.encode(s, context: ctx) }
    }
}

extension FlowMatchEulerDiscreteSchedulerConfig {
    /// `scheduler/scheduler_config.json` of a pipeline folder, errors as ``ModelError``.
    public static func load(modelPath: String) throws(ModelError) -> FlowMatchEulerDiscreteSchedulerConfig {
        do {
            return try load(path: modelPath + "/scheduler/scheduler_config.json")
        } catch {
            throw .invalidConfig(error.description)
        }
    }
}
