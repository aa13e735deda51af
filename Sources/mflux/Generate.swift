import ArgumentParser
import CallbackManager
import Foundation
import ModelZoo
import TensorKit

/// `mflux generate`: text to image with any registered model, through the shared generation core.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from a prompt.",
        discussion: """
            The model is an alias (\(ModelRegistry.descriptors.map(\.name).joined(separator: ", "))), a Hugging Face repository id \
            found in the local cache, or a diffusers pipeline folder; steps, size and guidance default to the model's. The same seed \
            gives the same image as diffusers with torch.Generator("cpu").manual_seed(seed). Several seeds load the model once. \
            Ctrl-C stops after the current step and writes nothing partial.
            """
    )

    @OptionGroup(title: "Model") var modelOptions: ModelOptions
    @OptionGroup(title: "Prompt") var promptOptions: PromptOptions
    @OptionGroup(title: "Sampling") var sampling: SamplingOptions
    @OptionGroup(title: "Image to image") var imageOptions: ImageOptions
    @OptionGroup(title: "Output") var outputOptions: OutputOptions

    func run() throws {
        let plan = try GenerationPlan(model: modelOptions, prompt: promptOptions, sampling: sampling, image: imageOptions)
        let ctx = try ComputeContext(threadCount: modelOptions.threads, precision: plan.precision)
        if let warning = ctx.blas.warning { Log.line(warning) }
        if !plan.precisionWasAsked && ctx.precision == .bf16 {
            Log.line("note: computing in bf16 (the default for this bf16 checkpoint on a CPU with AVX512-BF16); --precision fp32 for float32")
        }
        if ctx.precision != ctx.requestedPrecision {
            Log.line("note: \(ctx.requestedPrecision.rawValue) compute needs AVX512-BF16, which this CPU lacks; computing in \(ctx.precision.rawValue)")
        }
        let callbacks = CallbackManager()
        // Ctrl-C / SIGTERM from here on (loading included) stop at the next stage boundary.
        let watcher = SignalCancellation(token: callbacks.cancellation)
        callbacks.register(ProgressReporter())
        if outputOptions.verbose { callbacks.register(VerboseReporter()) }
        if let dir = outputOptions.stepwiseImageOutputDir { callbacks.register(StepwiseImageWriter(directory: dir)) }
        var options = LoadOptions()
        if let bits = plan.quantize { options.quantization = try WeightQuantization(bits: bits, context: ctx) }
        options.loras = try modelOptions.loras()
        let stored = MfluxSavedFolder(path: plan.resolved.path)?.quantizationLevel
        if let stored, let bits = plan.quantize {
            Log.line("note: the model is stored quantized to \(stored) bits; the stored bits win over -q \(bits)")
        }
        let generator = try ModelRegistry.generator(path: plan.resolved.path, residency: modelOptions.lowRam ? .lowMemory : .singleRun,
                                                    callbacks: callbacks, options: options)
        let defaults = ModelRegistry.defaults(for: plan.resolved, generator: generator)
        let settings = try plan.settings(defaults: defaults)
        if plan.seedsWereDrawn { Log.line("seed\(plan.seeds.count > 1 ? "s" : ""): \(plan.seeds.map(String.init).joined(separator: " "))") }
        if !defaults.usesGuidance && sampling.guidance != nil { Log.line("note: this model ignores --guidance") }
        let writer = ImageOutput(path: outputOptions.output, severalSeeds: plan.seeds.count > 1, sidecar: outputOptions.metadata)
        let pipeline = try ModelRegistry.modelClass(path: plan.resolved.path).pipelineClass
        let start = Date()
        try withExtendedLifetime(watcher) {
            for (i, seed) in plan.seeds.enumerated() {
                let request = GenerationRequest(prompt: try plan.prompt.read(), negativePrompt: plan.negativePrompt, seed: seed,
                                                steps: settings.steps, width: settings.width, height: settings.height,
                                                guidance: settings.guidance, image: plan.image, strength: 1 - plan.imageStrength,
                                                referenceImages: plan.referenceImages)
                let image = try generator.generate(request, imageIndex: i, imageCount: plan.seeds.count, context: ctx)
                let record = GenerationMetadata(image: image, model: plan.modelName, modelPath: plan.resolved.path,
                                                pipeline: pipeline,
                                                usesGuidance: defaults.usesGuidance, precision: ctx.precision.rawValue,
                                                quantize: stored ?? plan.quantize, imagePath: plan.imagePath, imagePaths: plan.referencePaths,
                                                loras: options.loras,
                                                version: VersionReport.version, versions: VersionReport.facts(ctx))
                Log.path(try writer.write(image, metadata: record))
            }
        }
        Log.line(String(format: "generated %d image%@ in %.1f s", plan.seeds.count, plan.seeds.count == 1 ? "" : "s", Date().timeIntervalSince(start)))
    }
}

/// One-line messages on standard error.
enum Log {
    static func line(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    /// A written file's path on standard output, unbuffered (a caller may read it at once).
    static func path(_ path: String) { FileHandle.standardOutput.write(Data((path + "\n").utf8)) }
}
