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
            print("  repository: \(d.repoId) (\(d.pipelineClass))")
            print("  defaults:   \(d.defaults.steps) steps, \(d.defaults.width)x\(d.defaults.height), guidance \(d.defaults.usesGuidance ? String(d.defaults.guidance) : "ignored")")
            if let path = HuggingFaceCache.snapshot(repoId: d.repoId) {
                print("  local:      \(path)")
            } else {
                print("  local:      not downloaded")
                print("  download:   \(d.downloadCommand)")
            }
        }
    }
}
