import Foundation
import ModelZoo
import XCTest

/// Config files found by fuzzing (scripts/fuzz, FuzzJSONConfig) that trapped before: a zero
/// `norm_num_groups` (division by zero before its check), sizes whose sums or products overflow,
/// and out-of-range ratios. Each is now a one-line config error.
final class ConfigRegressionTests: XCTestCase {
    func write(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testFuzzFoundConfigsAreErrors() throws {
        let huge = "9223372036854775807"
        let cases: [(String, (String) throws -> Void)] = [
            (#"{"_class_name": "AutoencoderKL", "norm_num_groups": 0}"#, { _ = try VAEConfig.load(path: $0, variant: .flux1) }),
            (#"{"block_out_channels": [\#(huge), 2], "norm_num_groups": 1}"#, { _ = try VAEConfig.load(path: $0, variant: .flux2) }),
            (#"{"dim": 64, "n_heads": 2, "n_kv_heads": 2, "axes_dims": [\#(huge), 2, 2], "axes_lens": [1, 1, 1]}"#, { _ = try ZImageTransformerConfig.load(path: $0) }),
            (#"{"dim": \#(huge), "n_heads": 1, "n_kv_heads": 1}"#, { _ = try ZImageTransformerConfig.load(path: $0) }),
            (#"{"attention_head_dim": \#(huge), "num_attention_heads": 2, "guidance_embeds": false}"#, { _ = try Flux2TransformerConfig.load(path: $0) }),
            (#"{"mlp_ratio": 1e300, "guidance_embeds": false}"#, { _ = try Flux2TransformerConfig.load(path: $0) }),
            (#"{"model_type": "qwen3", "num_attention_heads": \#(huge), "head_dim": 128}"#, { _ = try Qwen3Config.load(path: $0) }),
        ]
        for (json, load) in cases {
            let path = try write(json)
            XCTAssertThrowsError(try load(path), json) { e in
                XCTAssertFalse("\(e)".contains("\n"), "\(e)")
                XCTAssertTrue("\(e)".contains(path), "\(e)")
            }
        }
    }
}
