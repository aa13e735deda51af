import TensorKit
import Tokenizers

/// Prompt -> caption features as `ZImagePipeline._encode_prompt` computes them: the chat text,
/// 512 tokens (truncated, padded with `<|endoftext|>`), Qwen3's `hidden_states[-2]` (the output
/// of the second-to-last decoder layer, no final norm), and only the real tokens kept.
public struct ZImagePromptEncoder: PromptEncoding, Sendable {
    /// Token budget of the pipeline (`max_sequence_length`).
    public static let maxSequenceLength = 512
    /// The tokenizer.
    public let tokenizer: Tokenizer
    /// The text encoder (built up to the layer needed).
    public let encoder: Qwen3TextEncoder

    /// Loads the tokenizer and text encoder of a Z-Image pipeline folder (`config`: the text
    /// encoder's, when already read).
    public init(modelPath: String, config given: Qwen3Config? = nil, quantization: WeightQuantization? = nil) throws(ModelError) {
        do throws(TokenizerError) {
            tokenizer = try Tokenizer(folder: modelPath + "/tokenizer")
        } catch {
            throw .checkpoint(error.description)
        }
        let config: Qwen3Config
        if let given { config = given } else { config = try Qwen3Config.load(path: modelPath + "/text_encoder/config.json") }
        encoder = try Qwen3TextEncoder(folder: modelPath + "/text_encoder", deepestHiddenState: config.numHiddenLayers - 1, config: config,
                                       quantization: quantization)
    }

    /// The token ids and attention mask of `prompt`'s chat text.
    public func tokens(_ prompt: String) throws(ModelError) -> (ids: [Int], mask: [Int]) {
        do throws(TokenizerError) {
            let r = try tokenizer.encode(ChatTemplate.zImage(prompt), maxLength: Self.maxSequenceLength)
            return (r.ids, r.attentionMask)
        } catch {
            throw .checkpoint(error.description)
        }
    }

    /// `[L, hidden]` caption features of the real tokens of `prompt`.
    public func encode(_ prompt: String, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let (ids, mask) = try tokens(prompt)
        let index = encoder.config.numHiddenLayers - 1
        let h = try encoder.hiddenStates(ids: ids, attentionMask: mask, indices: [index], context: ctx)[index]!
        let real = mask.reduce(0, +)
        // Padding is on the right: the real tokens are the first `real` rows.
        return real == h.shape[0] ? h : h.split(sizes: [real, h.shape[0] - real], axis: 0)[0]
    }
}
