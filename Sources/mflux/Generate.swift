import ArgumentParser
import Foundation
import ImageIO
import ModelZoo
import TensorKit

/// `mflux generate`: text to image.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an image from a prompt.",
        discussion: "The model is a diffusers pipeline folder or an alias looked up in the Hugging Face cache (z-image-turbo). The same seed gives the same image as diffusers with torch.Generator(\"cpu\").manual_seed(seed)."
    )

    @Option(name: .long, help: "Alias (z-image-turbo) or path to a diffusers pipeline folder.")
    var model: String

    @Option(name: .long, help: "The prompt.")
    var prompt: String

    @Option(name: .long, help: "Negative prompt (used when --guidance > 0).")
    var negativePrompt: String = ""

    @Option(name: .long, parsing: .unconditional, help: "Seed (default: random, printed).")
    var seed: String?

    @Option(name: .long, parsing: .unconditional, help: "Denoising steps (Z-Image-Turbo: 9).")
    var steps: String?

    @Option(name: .long, parsing: .unconditional, help: "Image width in pixels, a multiple of 16.")
    var width: String = "1024"

    @Option(name: .long, parsing: .unconditional, help: "Image height in pixels, a multiple of 16.")
    var height: String = "1024"

    @Option(name: .long, parsing: .unconditional, help: "Classifier-free guidance scale (Z-Image-Turbo: 0, off).")
    var guidance: String = "0.0"

    @Option(name: .long, help: "Compute precision: fp32.")
    var precision: String = "fp32"

    @Option(name: .long, help: "Output PNG path (an existing file is never overwritten: _1, _2, ... is appended).")
    var output: String = "image.png"

    func run() throws {
        // Validate every value first: one line per mistake, nothing written.
        guard precision == "fp32" else { throw CLIError("--precision \(precision) is not supported (fp32 only)") }
        guard let w = Int(width), let h = Int(height), w > 0, h > 0 else { throw CLIError("--width and --height must be positive integers, got \(width)x\(height)") }
        guard w % 16 == 0, h % 16 == 0 else { throw CLIError("--width and --height must be multiples of 16, got \(w)x\(h)") }
        guard w <= 8192, h <= 8192 else { throw CLIError("--width and --height must be at most 8192, got \(w)x\(h)") }
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CLIError("--prompt is empty") }
        guard let g = Float(guidance), g.isFinite, g >= 0 else { throw CLIError("--guidance must be a number >= 0, got \(guidance)") }
        var stepCount: Int?
        if let steps {
            guard let s = Int(steps), s >= 1, s <= 1000 else { throw CLIError("--steps must be an integer from 1 to 1000, got \(steps)") }
            stepCount = s
        }
        var seedValue = UInt64.random(in: 0...UInt64(UInt32.max))
        if let seed {
            guard let s = UInt64(seed) else { throw CLIError("--seed must be a non-negative integer, got \(seed)") }
            seedValue = s
        }
        guard output.lowercased().hasSuffix(".png") else { throw CLIError("--output must be a .png file, got \(output)") }
        let dir = (output as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard dir.isEmpty || (FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) && isDir.boolValue) else {
            throw CLIError("output folder \(dir) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir.isEmpty ? "." : dir) else { throw CLIError("output folder \(dir.isEmpty ? "." : dir) is not writable") }

        if seed == nil { FileHandle.standardError.write(Data("seed: \(seedValue)\n".utf8)) }
        let path = try ModelResolver.resolve(model)
        let pipeline = try ModelIndex.pipelineClass(modelPath: path)
        guard pipeline == "ZImagePipeline" else {
            throw CLIError("\(path): pipeline \(pipeline) is not supported yet (supported: ZImagePipeline)")
        }
        let zimage = try ZImageTurbo(modelPath: path)
        let ctx = try ComputeContext()
        if let warning = ctx.blas.warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        let n = stepCount ?? ZImageTurbo.defaultSteps
        let start = Date()
        let result = try zimage.generate(prompt: prompt, negativePrompt: negativePrompt, seed: seedValue, steps: n,
                                         width: w, height: h, guidance: ZImageGuidance(scale: g), context: ctx) { event in
            if case .step(let i, let total) = event {
                FileHandle.standardError.write(Data("step \(i + 1)/\(total)\n".utf8))
            }
        }
        let image = try RGBImage(tensor: result.pixels, channelsLast: true)
        let text: PNG.TextChunks = [
            ("Software", "mflux-swift \(VersionReport.version)"), ("model", model), ("pipeline", pipeline),
            ("prompt", prompt), ("negative_prompt", negativePrompt), ("seed", String(seedValue)), ("steps", String(n)),
            ("guidance", guidance), ("width", String(w)), ("height", String(h)), ("precision", precision),
        ]
        let target = OutputPath.available(output)
        try PNG.write(image, to: target, text: text, policy: .refuse)
        FileHandle.standardError.write(Data(String(format: "generated in %.1f s\n", Date().timeIntervalSince(start)).utf8))
        print(target)
    }
}
