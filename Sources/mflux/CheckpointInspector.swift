import Foundation
import ModelZoo
import SafetensorsIO
import TensorKit

/// One part of what `mflux inspect` lists: a checkpoint, or a pipeline component.
struct InspectedComponent {
    /// Pipeline component name (nil for a lone checkpoint).
    let name: String?
    /// Class named in model_index.json.
    let className: String?
    /// The tensors (nil for components without weights, e.g. tokenizer, scheduler).
    let source: (any TensorSource)?
}

/// Opens and formats checkpoints for `mflux inspect`.
enum CheckpointInspector {
    /// Opens `path`: a diffusers pipeline folder (every component with weights is opened and
    /// validated), or anything ``Checkpoint/open(_:)`` accepts.
    static func open(_ path: String) throws -> [InspectedComponent] {
        guard ModelIndex.isPipelineFolder(path) else {
            return [InspectedComponent(name: nil, className: nil, source: try Checkpoint.open(path))]
        }
        let (_, listed) = try ModelIndex.read(modelPath: path)
        if listed.isEmpty { throw CLIError("\(path)/model_index.json: lists no components") }
        var components: [InspectedComponent] = []
        for c in listed {
            let folder = path + "/" + c.name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError("\(path): component \(c.name) (\(c.className)) listed in model_index.json has no folder")
            }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            let hasWeights = files.contains { $0.hasSuffix(".safetensors") || $0.hasSuffix(".safetensors.index.json") }
            if !hasWeights && files.contains(where: { $0.hasSuffix(".bin") || $0.hasSuffix(".pt") || $0.hasSuffix(".ckpt") }) {
                throw CLIError("\(folder): only pickle weights (.bin/.pt); mflux reads safetensors")
            }
            components.append(InspectedComponent(name: c.name, className: c.className, source: hasWeights ? try Checkpoint.open(folder) : nil))
        }
        return components
    }

    /// The listing of one component: a header line, one line per (matching) tensor, metadata.
    static func describe(_ c: InspectedComponent, filter: Regex<AnyRegexOutput>?, statsContext: ComputeContext?) -> String {
        var out = ""
        let prefix = c.name.map { $0 + "/" } ?? ""
        guard let source = c.source else {
            out += "# \(c.name ?? "") (\(c.className ?? "?")): no tensors\n"
            return out
        }
        let total = source.tensorNames.reduce(0) { $0 + (source.info($1)?.byteCount ?? 0) }
        let kind: String
        if let sharded = source as? ShardedCheckpoint { kind = "\(sharded.shards.count) shards" } else { kind = "1 file" }
        let title = c.name.map { "\($0) (\(c.className ?? "?"))" } ?? source.path
        out += "# \(title): \(kind), \(source.tensorNames.count) tensors, \(formatBytes(total))\n"
        for name in source.tensorNames {
            let shown = prefix + name
            if let filter, (try? filter.firstMatch(in: shown)) == nil { continue }
            guard let info = source.info(name) else { continue }
            var line = "\(shown)  \(info.dtype.safetensorsName)  [\(info.shape.map(String.init).joined(separator: ", "))]  \(formatBytes(info.byteCount))"
            if let ctx = statsContext {
                if let t = try? source.tensor(name), let s = ctx.statistics(t) {
                    line += "  min=\(fmt(s.min)) max=\(fmt(s.max)) mean=\(fmt(s.mean)) std=\(fmt(s.std))"
                    if s.nanCount > 0 { line += " nan=\(s.nanCount)" }
                    if s.infCount > 0 { line += " inf=\(s.infCount)" }
                } else {
                    line += "  (no statistics for \(info.dtype.safetensorsName))"
                }
            }
            out += line + "\n"
        }
        for (k, v) in source.metadata.sorted(by: { $0.key < $1.key }) {
            out += "metadata \(prefix)\(k) = \(v.replacingOccurrences(of: "\n", with: "\\n"))\n"
        }
        return out
    }

    static func fmt(_ v: Double?) -> String {
        guard let v else { return "n/a" }
        return String(format: "%.6g", v)
    }

    /// Bytes in B/KiB/MiB/GiB with two decimals.
    static func formatBytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.2f %@", v, units[u])
    }
}
