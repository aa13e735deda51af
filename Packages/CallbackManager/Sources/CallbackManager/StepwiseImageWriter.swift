import ImageIO
import TensorKit

/// `--stepwise-image-output-dir`: after every step, the latents decoded to
/// `seed_{seed}_step{i}of{n}.png`; after the loop (or when it is interrupted, with the steps
/// that exist) the steps side by side in `seed_{seed}_composite.png`. Files are never
/// overwritten (`_1`, `_2`, ... is appended); the folder is created when missing.
public final class StepwiseImageWriter: InLoopCallback, AfterLoopCallback, InterruptCallback, NeedsLatentDecoder {
    /// The folder the images go to.
    public let directory: String
    /// Paths written so far, in order.
    public private(set) var written: [String] = []
    private var frames: [RGBImage] = []

    /// Writes into `directory`.
    public init(directory: String) { self.directory = directory }

    public func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) throws {
        if step.number == 1 { frames = [] }
        let image = try manager.decode(latents)
        frames.append(image)
        try save(image, name: "seed_\(info.seed)_step\(step.number)of\(step.total).png", info: info,
                 extra: [("step", "\(step.number)/\(step.total)"), ("sigma", "\(step.nextSigma)")], manager: manager)
    }

    public func afterLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) throws {
        try writeComposite(info, manager: manager)
    }

    public func interrupted(_ info: LoopInfo, lastStep: StepInfo?, latents: Tensor, manager: CallbackManager) throws {
        try writeComposite(info, manager: manager)
    }

    private func writeComposite(_ info: LoopInfo, manager: CallbackManager) throws {
        guard !frames.isEmpty else { return }
        try save(try CompositeImage.strip(frames), name: "seed_\(info.seed)_composite.png", info: info,
                 extra: [("steps", "\(frames.count)")], manager: manager)
        frames = []
    }

    private func save(_ image: RGBImage, name: String, info: LoopInfo, extra: PNG.TextChunks, manager: CallbackManager) throws {
        try FileDirectory.create(directory)
        let text: PNG.TextChunks = [("Software", "mflux-swift"), ("prompt", info.prompt), ("seed", "\(info.seed)")] + extra
        let path = try UniquePath.write(preferred: directory + "/" + name, isExists: { (e: ImageIOError) in
            if case .fileExists = e { return true } else { return false }
        }) { (p: String) throws(ImageIOError) in try PNG.write(image, to: p, text: text, policy: .refuse) }
        written.append(path)
        manager.stage(.wrote(path: path))
    }
}
