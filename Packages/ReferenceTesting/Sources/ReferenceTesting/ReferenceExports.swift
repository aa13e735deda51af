import Foundation

/// Locates the repository's `ReferenceExports/` folder.
public enum ReferenceExports {
    /// Environment variable that overrides the search.
    public static let environmentVariable = "MFLUX_REFERENCE_EXPORTS"

    /// Why the exports cannot be used; a test that needs them fails (never skips).
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// `$MFLUX_REFERENCE_EXPORTS`, else the first `ReferenceExports/` (holding `index.json`)
    /// found walking up from `filePath` (pass `#filePath` of the calling test).
    public static func root(from filePath: String = #filePath) throws -> String {
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty {
            guard FileManager.default.fileExists(atPath: env + "/index.json") else {
                throw Missing(description: "\(environmentVariable)=\(env) holds no index.json")
            }
            return env
        }
        var url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("ReferenceExports")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("index.json").path) {
                return candidate.path
            }
            url.deleteLastPathComponent()
        }
        throw Missing(description: "ReferenceExports/index.json not found above \(filePath); set \(environmentVariable) or run scripts/reference/regenerate")
    }

    /// The case folders listed by `index.json` (e.g. "zimage/cases/bf16").
    public static func caseNames(from filePath: String = #filePath) throws -> [String] {
        let r = try root(from: filePath)
        let data = try Data(contentsOf: URL(fileURLWithPath: r + "/index.json"))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any], let cases = obj["cases"] as? [String] else {
            throw Missing(description: "\(r)/index.json has no \"cases\" list")
        }
        return cases
    }
}
