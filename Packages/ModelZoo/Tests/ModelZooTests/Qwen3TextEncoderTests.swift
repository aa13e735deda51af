import Foundation
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// The Qwen3 text encoder against transformers: the exported hidden states of every case
/// (Z-Image: `Qwen3Model`, `hidden_states[-2]`; klein: `Qwen3ForCausalLM` with tied and untied
/// embeddings, layers 9/18/27), from the exported token ids and masks.
final class Qwen3TextEncoderTests: XCTestCase {
    let ctx = try! ComputeContext()

    func testHiddenStatesOfEveryCase() throws {
        let names = try ReferenceExports.caseNames()
        XCTAssertGreaterThanOrEqual(names.count, 10, "every case")
        for name in names {
            let c = try ReferenceCase(name)
            let keys = c.tensors.tensorNames.filter { $0.hasPrefix("text_encoder.hidden_states.") }
            let indices = keys.map { Int($0.split(separator: ".").last!)! }
            let encoder = try Qwen3TextEncoder(folder: c.checkpointPath! + "/text_encoder", deepestHiddenState: indices.max()!)
            for prefix in ["", "negative."] where c.tensors.info(prefix + "tokenizer.input_ids") != nil {
                let ids = try c.tensor(prefix + "tokenizer.input_ids").integers()!
                let mask = try c.tensor(prefix + "tokenizer.attention_mask").integers()!
                let states = try encoder.hiddenStates(ids: ids, attentionMask: mask, indices: indices, context: ctx)
                for (key, index) in zip(keys, indices) {
                    let expected = try c.tensor(prefix + key)
                    let r = assertReferenceClose(states[index]!.reshaped(expected.shape), expected, tolerance: 1e-4, "\(name) \(prefix)\(key)")
                    print("measured \(name) \(prefix)\(key): \(r?.description ?? "-")")
                }
            }
        }
    }

    func testPublishedQwen3ConfigForms() throws {
        // Qwen3-4B as published (older transformers: top-level rope_theta, torch_dtype).
        let real = #"""
        {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
         "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 2560, "initializer_range": 0.02,
         "intermediate_size": 9728, "max_position_embeddings": 40960, "max_window_layers": 36, "model_type": "qwen3",
         "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
         "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
         "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false,
         "vocab_size": 151936}
        """#
        let path = NSTemporaryDirectory() + "qwen3-\(UUID().uuidString).json"
        try real.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try Qwen3Config.load(path: path)
        XCTAssertEqual(c.hiddenSize, 2560)
        XCTAssertEqual(c.numKeyValueHeads, 8)
        XCTAssertEqual(c.headDim, 128)
        XCTAssertEqual(c.ropeTheta, 1_000_000)
        XCTAssertTrue(c.tieWordEmbeddings)
        try #"{"model_type": "qwen3", "rope_parameters": {"rope_type": "yarn", "rope_theta": 1e6}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Qwen3Config.load(path: path))
    }

    func testOutOfVocabularyIdsAreRefused() throws {
        let root = try ReferenceExports.root()
        let encoder = try Qwen3TextEncoder(folder: root + "/zimage/checkpoints/base/text_encoder", deepestHiddenState: 2)
        XCTAssertThrowsError(try encoder.hiddenStates(ids: [1, 100_000], attentionMask: [1, 1], indices: [2], context: ctx))
        XCTAssertThrowsError(try encoder.hiddenStates(ids: [1], attentionMask: [1], indices: [3], context: ctx), "layer 3 was not built")
    }
}
