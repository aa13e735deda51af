import Foundation
import SafetensorsIO

/// A diffusers pipeline folder's `model_index.json`.
public enum ModelIndex {
    /// A component the index lists: its folder name, library and class.
    public struct Component: Sendable, Equatable {
        /// Folder name, library ("diffusers", "transformers") and class of the component.
        public let name: String, library: String, className: String
    }

    /// Whether `modelPath` is a folder holding a `model_index.json`.
    public static func isPipelineFolder(_ modelPath: String) -> Bool {
        FileManager.default.fileExists(atPath: modelPath + "/model_index.json")
    }

    /// The pipeline class (`_class_name`) and the components (`"name": [library, class]`, unused
    /// `[null, null]` entries skipped, sorted by name) of the pipeline in `modelPath`.
    public static func read(modelPath: String) throws(ModelError) -> (pipelineClass: String, components: [Component]) {
        let path = modelPath + "/model_index.json"
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelPath, isDirectory: &isDir), isDir.boolValue else {
            throw .checkpoint("\(modelPath): no such model folder")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .checkpoint("\(modelPath): not a diffusers pipeline folder (no model_index.json)")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .invalidConfig("\(path): not a JSON object")
        }
        guard let cls = obj["_class_name"] as? String else { throw .invalidConfig("\(path): no _class_name") }
        var components: [Component] = []
        for (key, value) in obj where !key.hasPrefix("_") {
            guard let spec = value as? [Any], spec.count == 2, let lib = spec[0] as? String, let c = spec[1] as? String else { continue }
            components.append(Component(name: key, library: lib, className: c))
        }
        return (cls, components.sorted { $0.name < $1.name })
    }

    /// A boolean entry of `model_index.json` (e.g. `is_distilled`); nil when absent.
    public static func flag(_ key: String, modelPath: String) throws(ModelError) -> Bool? {
        _ = try read(modelPath: modelPath)
        let path = modelPath + "/model_index.json"
        guard let data = FileManager.default.contents(atPath: path),
              let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let value = obj[key] else { return nil }
        guard let b = value as? Bool else { throw .invalidConfig("\(path): \(key) must be true or false") }
        return b
    }

    /// The `_class_name` of the pipeline in `modelPath` (e.g. "ZImagePipeline").
    public static func pipelineClass(modelPath: String) throws(ModelError) -> String {
        try read(modelPath: modelPath).pipelineClass
    }

    /// Checks that `modelPath` holds a `pipelineClass` pipeline with a folder for every component
    /// the index lists and for each of `required`.
    public static func require(modelPath: String, pipelineClass: String, components required: [String]) throws(ModelError) {
        let (cls, listed) = try read(modelPath: modelPath)
        guard cls == pipelineClass else { throw .invalidConfig("\(modelPath): pipeline \(cls), expected \(pipelineClass)") }
        for c in Set(required).union(listed.map(\.name)).sorted() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: modelPath + "/" + c, isDirectory: &isDir), isDir.boolValue else {
                throw .checkpoint("\(modelPath): incomplete pipeline folder: component \(c) is missing")
            }
        }
    }
}
