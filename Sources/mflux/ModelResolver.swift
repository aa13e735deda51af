import Foundation

/// Turns `--model` into a diffusers pipeline folder: a path as given, or an alias looked up in
/// the Hugging Face cache.
enum ModelResolver {
    /// Aliases -> Hugging Face repository ids.
    static let aliases: [String: String] = [
        "z-image-turbo": "Tongyi-MAI/Z-Image-Turbo",
    ]

    /// The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    static func hubCache(environment env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let c = env["HF_HUB_CACHE"], !c.isEmpty { return c }
        if let h = env["HF_HOME"], !h.isEmpty { return h + "/hub" }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/huggingface/hub"
    }

    /// The folder for `model` (alias, "ORG/NAME" repository id, or path).
    static func resolve(_ model: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDir) {
            guard isDir.boolValue else { throw CLIError("\(model) is a file; --model takes a diffusers pipeline folder or an alias (\(aliases.keys.sorted().joined(separator: ", ")))") }
            return model
        }
        let repo: String
        if let r = aliases[model.lowercased()] {
            repo = r
        } else if aliases.values.contains(model) {
            repo = model
        } else if model.contains("/") || model.hasPrefix(".") {
            throw CLIError("model folder \(model) does not exist")
        } else {
            throw CLIError("unknown model \(model): use a diffusers pipeline folder or one of \(aliases.keys.sorted().joined(separator: ", "))")
        }
        let cache = hubCache(environment: env)
        let base = cache + "/models--" + repo.replacingOccurrences(of: "/", with: "--")
        let snapshots = base + "/snapshots"
        if let ref = try? String(contentsOfFile: base + "/refs/main", encoding: .utf8) {
            let path = snapshots + "/" + ref.trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.fileExists(atPath: path + "/model_index.json") { return path }
        }
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: snapshots)) ?? []).sorted()
        if let snap = entries.first(where: { FileManager.default.fileExists(atPath: snapshots + "/" + $0 + "/model_index.json") }) {
            return snapshots + "/" + snap
        }
        throw CLIError("\(model) (\(repo)) is not in the Hugging Face cache at \(cache); download it with: hf download \(repo)  (or: huggingface-cli download \(repo))")
    }
}
