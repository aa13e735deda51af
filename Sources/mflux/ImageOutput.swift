import Foundation
import ImageIO
import ModelZoo
import TensorKit

/// Writes generated images (and `--metadata` sidecars) without ever replacing a file: the PNG
/// and its sidecar get the first name `NAME`, `NAME_1`, ... at which neither exists; the PNG is
/// written atomically (a file that appears meanwhile is kept and the next name is taken).
struct ImageOutput {
    /// `--output`.
    let path: String
    /// Several seeds: NAME_seed_N.png (unless the path holds `{seed}`).
    let severalSeeds: Bool
    /// Whether to write NAME.metadata.json.
    let sidecar: Bool

    /// The path asked for the image of `seed`.
    func preferredPath(seed: UInt64) -> String {
        if path.contains("{seed}") { return path.replacingOccurrences(of: "{seed}", with: String(seed)) }
        guard severalSeeds else { return path }
        return UniquePath.replacingExtension(path, with: "_seed_\(seed)." + (path as NSString).pathExtension)
    }

    /// The sidecar of an image path.
    static func sidecarPath(_ png: String) -> String { UniquePath.replacingExtension(png, with: ".metadata.json") }

    /// Writes `image` with `metadata` in its text chunks (and the sidecar); returns the PNG's path.
    func write(_ image: GeneratedImage, metadata: GenerationMetadata) throws -> String {
        let rgb = try RGBImage(tensor: image.pixels, channelsLast: true)
        let text = metadata.pngText()
        let written = try UniquePath.write(preferred: preferredPath(seed: image.request.seed),
                                           companions: { sidecar ? [Self.sidecarPath($0)] : [] },
                                           isExists: { (e: ImageIOError) in if case .fileExists = e { return true } else { return false } }) {
            (p: String) throws(ImageIOError) in try PNG.write(rgb, to: p, text: text, policy: .refuse)
        }
        if sidecar {
            let json = [UInt8](metadata.json())
            do throws(TensorError) {
                try AtomicFile.write(to: Self.sidecarPath(written), policy: .refuse) { sink throws(TensorError) in try sink.write(json) }
            } catch {
                throw CLIError("\(written) was written, but its metadata was not: \(error.description)")
            }
        }
        return written
    }
}
