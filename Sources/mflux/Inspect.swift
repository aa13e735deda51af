import ArgumentParser
import Foundation
import SafetensorsIO
import TensorKit

/// `mflux inspect PATH`: lists a checkpoint's tensors (name, dtype, shape, size) and metadata.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a .safetensors file, a sharded checkpoint or a diffusers pipeline folder.",
        discussion: "PATH is a .safetensors file, a *.safetensors.index.json, a folder holding either, or a diffusers pipeline folder (with model_index.json; every component is listed). A malformed or incomplete checkpoint is reported in one line on stderr with exit code 1."
    )

    @Argument(help: "File or folder to inspect.")
    var path: String

    @Flag(name: .long, help: "Add min/max/mean/std read from the data (bf16/f16 upcast).")
    var stats = false

    @Option(name: .long, help: "Only tensors whose name matches this regular expression.")
    var filter: String?

    func run() throws {
        var regex: Regex<AnyRegexOutput>?
        if let filter {
            do { regex = try Regex(filter) } catch { throw CLIError("invalid --filter regular expression \"\(filter)\": \(error)") }
        }
        // Open and validate everything before printing anything.
        let components = try CheckpointInspector.open(path)
        let ctx: ComputeContext? = stats ? try ComputeContext() : nil
        if let w = ctx?.blas.warning { FileHandle.standardError.write(Data((w + "\n").utf8)) }
        var out = ""
        for component in components {
            out += CheckpointInspector.describe(component, filter: regex, statsContext: ctx)
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
