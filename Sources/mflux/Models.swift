import ArgumentParser
import Foundation
import ModelZoo

/// `mflux models`: every alias, its repository, whether it is in the Hugging Face cache, and the
/// command that downloads it.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models mflux knows and where each is in the Hugging Face cache.")

    func run() throws {
        let cache = HuggingFaceCache.root()
        print("Hugging Face cache: \(cache)")
        for d in ModelRegistry.descriptors {
            print("")
            print("\(d.name)\(d.aliases.isEmpty ? "" : " (also: \(d.aliases.joined(separator: ", ")))")")
            print("  defaults:   \(d.defaults.steps) steps, \(d.defaults.width)x\(d.defaults.height), guidance \(d.defaults.usesGuidance ? String(d.defaults.guidance) : "ignored")")
            switch d.source {
            case .huggingFace(let repoId):
                print("  repository: \(repoId) (\(d.pipelineClass))")
                if let path = HuggingFaceCache.snapshot(repoId: repoId) {
                    print("  local:      \(path)")
                } else {
                    print("  local:      not downloaded")
                    print("  download:   hf download \(repoId)")
                }
            case .bundled(let rel):
                print("  bundled:    \(rel) (\(d.pipelineClass))")
                print("  local:      \(BundledModels.locate(rel) ?? "not found (run the mflux built in the repository)")")
            }
        }
    }
}
