import Foundation

/// The Hugging Face hub cache on disk (`hub/models--ORG--NAME/{refs,snapshots}`), read without a
/// network.
public enum HuggingFaceCache {
    /// The cache folder: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public static func root(environment env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let c = env["HF_HUB_CACHE"], !c.isEmpty { return c }
        if let h = env["HF_HOME"], !h.isEmpty { return h + "/hub" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/huggingface/hub"
    }

    /// The snapshot folder of `repoId` holding `marker` (default `model_index.json`): the one
    /// `refs/main` names, else the first complete snapshot by name; nil when not downloaded.
    public static func snapshot(repoId: String, marker: String = "model_index.json",
                                environment env: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let base = root(environment: env) + "/models--" + repoId.replacingOccurrences(of: "/", with: "--")
        let snapshots = base + "/snapshots"
        let fm = FileManager.default
        if let ref = try? String(contentsOfFile: base + "/refs/main", encoding: .utf8) {
            let path = snapshots + "/" + ref.trimmingCharacters(in: .whitespacesAndNewlines)
            if fm.fileExists(atPath: path + "/" + marker) { return path }
        }
        let entries = ((try? fm.contentsOfDirectory(atPath: snapshots)) ?? []).sorted()
        return entries.first { fm.fileExists(atPath: snapshots + "/" + $0 + "/" + marker) }.map { snapshots + "/" + $0 }
    }
}
