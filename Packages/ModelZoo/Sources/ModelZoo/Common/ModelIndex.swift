import Foundation

/// A diffusers pipeline folder's `model_index.json`.
public enum ModelIndex {
    /// The `_class_name` of the pipeline in `modelPath` (e.g. "ZImagePipeline").
    public static func pipelineClass(modelPath: String) throws(ModelError) -> String {
        let path = modelPath + "/model_index.json"
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelPath, isDirectory: &isDir), isDir.boolValue else {
            throw .checkpoint("\(modelPath): no such model folder")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .checkpoint("\(modelPath): not a diffusers pipeline folder (no model_index.json)")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let cls = obj["_class_name"] as? String else {
            throw .invalidConfig("\(path): no _class_name")
        }
        return cls
    }

    /// Checks that `modelPath` holds a `pipelineClass` pipeline with a folder for each component.
    public static func require(modelPath: String, pipelineClass: String, components: [String]) throws(ModelError) {
        let cls = try ModelIndex.pipelineClass(modelPath: modelPath)
        guard cls == pipelineClass else { throw .invalidConfig("\(modelPath): pipeline \(cls), expected \(pipelineClass)") }
        for c in components {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: modelPath + "/" + c, isDirectory: &isDir), isDir.boolValue else {
                throw .checkpoint("\(modelPath): incomplete pipeline folder: component \(c) is missing")
            }
        }
    }
}
