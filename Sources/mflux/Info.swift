import ArgumentParser
import Foundation
import ModelZoo

/// `mflux info IMAGE`: the settings an image was generated with (its embedded metadata, or a
/// `.metadata.json` sidecar).
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the generation settings stored in an image written by mflux.")

    @Argument(help: "A PNG written by mflux generate, or its .metadata.json sidecar.", completion: .file(extensions: ["png", "json"]))
    var image: String

    func run() throws {
        print(Self.format(try GenerationMetadata.read(path: image)))
    }

    /// The report, in mflux-info's layout.
    static func format(_ m: GenerationMetadata) -> String {
        let rule = String(repeating: "=", count: 60)
        var lines = [rule, "MFLUX Image Information", rule, "", "Prompt: \(m.prompt)"]
        if let n = m.negativePrompt, !n.isEmpty { lines.append("Negative Prompt: \(n)") }
        lines += ["", "Model: \(m.model)"]
        if let p = m.modelPath, p != m.model { lines.append("Model Path: \(p)") }
        if let p = m.pipeline { lines.append("Pipeline: \(p)") }
        lines += ["Width: \(m.width)", "Height: \(m.height)", "", "Seed: \(m.seed)", "Steps: \(m.steps)"]
        if let g = m.guidance { lines.append("Guidance: \(g)") }
        if let q = m.quantize { lines.append("Quantization: \(q)-bit") }
        if let p = m.precision { lines.append("Precision: \(p)") }
        if let s = m.sigmas { lines.append("Sigmas: \(s.map { String($0) }.joined(separator: ", "))") }
        lines.append("")
        if let t = m.generationTimeSeconds { lines.append(String(format: "Generation Time: %.2fs", t)) }
        if let t = m.timings, !t.isEmpty {
            lines.append("Stage Times: " + t.keys.sorted().map { String(format: "%@ %.2fs", $0, t[$0]!) }.joined(separator: ", "))
        }
        if let c = m.createdAt { lines.append("Created: \(c)") }
        lines.append("MFLUX Version: \(m.generator.map { "\($0) " } ?? "")\(m.mfluxVersion)")
        if let v = m.versions, !v.isEmpty { lines.append("Machine: " + v.keys.sorted().map { "\($0) \(v[$0]!)" }.joined(separator: ", ")) }
        lines.append(rule)
        return lines.joined(separator: "\n")
    }
}
