import ArgumentParser
import Foundation
import ModelZoo
import Tokenizers

/// `mflux tokenize`: token ids of texts with a model's tokenizer, to compare with the reference.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of each text (one JSON array per line).",
        discussion: "Uses PATH/tokenizer/ of the model folder; no special tokens are added. With --chat, the ids of the chat text the model's pipeline builds around the text."
    )

    @Option(name: .long, help: "Alias or path to a diffusers pipeline folder.")
    var model: String

    @Flag(name: .long, help: "Tokenize the pipeline's chat text around each text.")
    var chat = false

    @Argument(help: "Texts to tokenize (put them after --).")
    var texts: [String] = []

    func run() throws {
        let path = try ModelRegistry.resolve(model).path
        let tokenizer = try Tokenizer(folder: path + "/tokenizer")
        var wrap: (String) -> String = { $0 }
        if chat {
            switch try ModelIndex.pipelineClass(modelPath: path) {
            case "ZImagePipeline": wrap = ChatTemplate.zImage
            case "Flux2KleinPipeline": wrap = ChatTemplate.flux2Klein
            case let other: throw CLIError("\(path): no chat template for pipeline \(other)")
            }
        }
        var out = ""
        for text in texts {
            out += "[" + tokenizer.encode(wrap(text)).map(String.init).joined(separator: ", ") + "]\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
