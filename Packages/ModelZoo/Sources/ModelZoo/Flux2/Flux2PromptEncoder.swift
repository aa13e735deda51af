import TensorKit
import Tokenizers

/// Prompt -> text features as `Flux2KleinPipeline._get_qwen3_prompt_embeds` computes them: the chat
/// text with the empty think block, 512 tokens (truncated, padded), Qwen3's hidden states after
/// decoder layers 9, 18 and 27 (`hidden_states[9]`, `[18]`, `[27]`) concatenated per token, and all
/// 512 positions kept (padding included, as diffusers feeds them to the transformer).
public struct Flux2PromptEncoder: PromptEncoding, Sendable {
    /// Token budget (`max_sequence_length`).
    public static let maxSequenceLength = 512
    /// `text_encoder_out_layers`.
    public static let hiddenStateLayers = [9, 18, 27]
    /// The tokenizer.
    public let tokenizer: Tokenizer
    /// The text encoder (built up to layer 27; the rest, the final norm and the LM head are known-unused).
    public let encoder: Qwen3TextEncoder

    /// Loads the tokenizer and text encoder of a klein pipeline folder.
    public init(modelPath: String, config: Qwen3Config, quantization: WeightQuantization? = nil) throws(ModelError) {
        do throws(TokenizerError) {
            tokenizer = try Tokenizer(folder: modelPath + "/tokenizer")
        } catch {
            throw .checkpoint(error.description)
        }
        encoder = try Qwen3TextEncoder(folder: modelPath + "/text_encoder", deepestHiddenState: Self.hiddenStateLayers.max()!, config: config,
                                       quantization: quantization)
    }

    /// The 512 token ids and attention mask of `prompt`'s chat text.
    public func tokens(_ prompt: String) throws(ModelError) -> (ids: [Int], mask: [Int]) {
        do throws(TokenizerError) {
            let r = try tokenizer.encode(ChatTemplate.flux2Klein(prompt), maxLength: Self.maxSequenceLength)
            return (r.ids, r.attentionMask)
        } catch {
            throw .checkpoint(error.description)
        }
    }

    /// `[512, 3·hidden]` text features of `prompt`.
    public func encode(_ prompt: String, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        let (ids, mask) = try tokens(prompt)
        let states = try encoder.hiddenStates(ids: ids, attentionMask: mask, indices: Self.hiddenStateLayers, context: ctx)
        return Tensor.concat(Self.hiddenStateLayers.map { states[$0]! }, axis: 1)
    }
}
