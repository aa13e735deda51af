import Foundation

/// Reads a component's `config.json` into a `Decodable` config struct.
public enum ConfigFile {
    /// Decodes `path` as `T`; a missing or malformed file is a ``ModelError/invalidConfig(_:)``.
    public static func load<T: Decodable>(_ type: T.Type, path: String) throws(ModelError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfig("\(path): cannot read the config")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .invalidConfig("\(path): invalid value for \(key.isEmpty ? "the config" : key): \(context.debugDescription)")
        } catch {
            throw .invalidConfig("\(path): invalid config JSON")
        }
    }
}
