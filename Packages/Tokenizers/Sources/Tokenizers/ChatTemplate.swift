/// The chat text each image pipeline builds around a prompt with Qwen3's template (a single user
/// message and the generation prompt).
public enum ChatTemplate {
    /// `ZImagePipeline` (`enable_thinking=True`):
    /// `<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n`.
    public static func zImage(_ prompt: String) -> String {
        "<|im_start|>user\n" + prompt + "<|im_end|>\n<|im_start|>assistant\n"
    }

    /// `Flux2KleinPipeline` (`enable_thinking=False`): the same plus an empty think block,
    /// `<think>\n\n</think>\n\n`.
    public static func flux2Klein(_ prompt: String) -> String {
        zImage(prompt) + "<think>\n\n</think>\n\n"
    }
}
