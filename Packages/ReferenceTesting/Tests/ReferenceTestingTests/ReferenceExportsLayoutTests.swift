import Foundation
import ReferenceTesting
import SafetensorsIO
import TensorKit
import XCTest

/// Opens every committed case and checks its tensors against its manifest, the keys every port
/// relies on, and the layout of the checkpoint that produced it.
final class ReferenceExportsLayoutTests: XCTestCase {
    let ctx = try! ComputeContext(threadCount: 1)

    /// Keys every case of `model` must export for a run of `steps` steps.
    func requiredKeys(model: String, steps: Int, guidance: Bool) -> [String] {
        var keys = ["tokenizer.input_ids", "tokenizer.attention_mask", "prompt_embeds", "noise", "scheduler.sigmas",
                    "scheduler.timesteps", "final_latents", "vae.decode.in", "vae.decode.out", "image.float", "image.uint8"]
        for i in 0..<steps {
            keys += ["step.\(i).transformer.out", "step.\(i).noise_pred", "step.\(i).latents"]
            keys += model == "zimage" ? ["step.\(i).transformer.in.x", "step.\(i).transformer.in.t"]
                                      : ["step.\(i).transformer.in.hidden_states", "step.\(i).transformer.in.timestep"]
        }
        if model == "zimage" {
            keys += ["transformer.in.cap.0"]
            if guidance { keys += ["negative.tokenizer.input_ids", "negative_prompt_embeds", "transformer.in.cap.1"] }
        } else {
            keys += ["text_encoder.hidden_states.9", "text_encoder.hidden_states.18", "text_encoder.hidden_states.27",
                     "text_ids", "latent_ids", "latents.packed", "transformer.in.encoder_hidden_states",
                     "transformer.in.txt_ids", "transformer.in.img_ids"]
        }
        return keys
    }

    func testEveryCaseMatchesItsManifestAndHasTheRequiredKeys() throws {
        let names = try ReferenceExports.caseNames()
        XCTAssertGreaterThanOrEqual(names.count, 7)
        var models = Set<String>()
        for name in names {
            let c = try ReferenceCase(name)
            let model = c.manifestValue("model")?.stringValue ?? ""
            models.insert(model)
            let steps = c.manifestValue("steps")?.intValue ?? 0
            let guidance = (c.manifestValue("guidance_scale")?.doubleValue ?? 0) > 1 || (model == "zimage" && (c.manifestValue("guidance_scale")?.doubleValue ?? 0) > 0)
            XCTAssertGreaterThan(steps, 0, name)
            // The manifest lists exactly the file's tensors, with their dtypes and shapes.
            let listed = c.manifestKeys
            XCTAssertEqual(Set(listed.keys), Set(c.tensors.tensorNames), name)
            for key in c.tensors.tensorNames {
                let info = c.tensors.info(key)!
                XCTAssertEqual(listed[key]?.shape, info.shape, "\(name) \(key)")
                let dt = ["float32": DType.float32, "int64": .int64, "uint8": .uint8][listed[key]?.dtype ?? ""]
                XCTAssertEqual(dt, info.dtype, "\(name) \(key)")
                XCTAssertTrue([DType.float32, .int64, .uint8].contains(info.dtype), "\(name) \(key): \(info.dtype)")
            }
            for key in requiredKeys(model: model, steps: steps, guidance: guidance) {
                XCTAssertNotNil(c.tensors.info(key), "\(name) lacks \(key)")
            }
            // Shapes that tie the exports together.
            let h = c.manifestValue("height")!.intValue!, w = c.manifestValue("width")!.intValue!
            XCTAssertEqual(c.tensors.info("image.uint8")?.shape, [h, w, 3], name)
            XCTAssertEqual(c.tensors.info("scheduler.sigmas")?.shape, [steps + 1], name)
            XCTAssertEqual(c.tensors.info("scheduler.timesteps")?.shape, [steps], name)
            XCTAssertEqual(c.tensors.info("tokenizer.input_ids")?.shape, [1, 512], name)
            if model == "zimage" {
                XCTAssertEqual(c.tensors.info("noise")?.shape, [1, 16, h / 8, w / 8], name)
            } else {
                XCTAssertEqual(c.tensors.info("noise")?.shape, [1, 128, h / 16, w / 16], name)
                XCTAssertEqual(c.tensors.info("prompt_embeds")?.shape[1], 512, name)
            }
            // The reference image is a real test.
            let px = try c.tensor("image.uint8").scalars(as: UInt8.self).map(Double.init)
            let mean = px.reduce(0, +) / Double(px.count)
            let std = (px.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(px.count)).squareRoot()
            let clipped = Double(px.filter { $0 == 0 || $0 == 255 }.count) / Double(px.count)
            XCTAssertGreaterThanOrEqual(std, 30, "\(name): image std")
            XCTAssertLessThanOrEqual(clipped, 0.05, "\(name): clipped fraction")
            try checkCheckpointLayout(c, name: name)
            let png = FileManager.default.contents(atPath: c.folder + "/image.png") ?? Data()
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(name): image.png")
        }
        XCTAssertEqual(models, ["zimage", "klein"])
    }

    func checkCheckpointLayout(_ c: ReferenceCase, name: String) throws {
        let cp = try XCTUnwrap(c.checkpointPath, name)
        let fm = FileManager.default
        XCTAssertTrue(fm.fileExists(atPath: cp + "/model_index.json"), name)
        for component in ["transformer", "text_encoder", "vae"] {
            XCTAssertTrue(fm.fileExists(atPath: "\(cp)/\(component)/config.json"), "\(name) \(component)")
            let source = try Checkpoint.open("\(cp)/\(component)")
            XCTAssertFalse(source.tensorNames.isEmpty, "\(name) \(component)")
            let stored = c.manifestValue("stored_dtype")?.stringValue
            let floats = source.tensorNames.compactMap { source.info($0)?.dtype }.filter { $0.isComputeFloat }
            XCTAssertEqual(Set(floats), [stored == "bfloat16" ? DType.bfloat16 : .float32], "\(name) \(component) dtypes")
            if name.hasSuffix("sharded") && component != "vae" {
                let sharded = try XCTUnwrap(source as? ShardedCheckpoint, "\(name) \(component) is sharded")
                XCTAssertGreaterThanOrEqual(sharded.shards.count, 2, "\(name) \(component)")
            }
        }
        for file in ["tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json", "tokenizer/chat_template.jinja",
                     "scheduler/scheduler_config.json"] {
            XCTAssertTrue(fm.fileExists(atPath: "\(cp)/\(file)"), "\(name) \(file)")
        }
    }

    func testNoiseVAEAndTokenizerExports() throws {
        let root = try ReferenceExports.root()
        let noise = try SafetensorsFile(path: root + "/noise/tensors.safetensors")
        for n in [1, 2, 15, 16, 17, 37, 4096] {
            XCTAssertEqual(noise.info("randn.seed42.n\(n)")?.shape, [n])
        }
        XCTAssertEqual(try noise.tensor("randn.seed42.n37").floats(context: ctx), try noise.tensor("randn.seed4294967338.n37").floats(context: ctx),
                       "seeds N and N + 2^32 give the same noise")
        XCTAssertTrue(noise.tensorNames.contains { $0.hasPrefix("randn.sequence_scalar.1") })
        for model in ["zimage", "klein"] {
            let vae = try SafetensorsFile(path: "\(root)/\(model)/vae_roundtrip/tensors.safetensors")
            let x = try XCTUnwrap(vae.info("image.in"))
            XCTAssertEqual(x.shape, [1, 3, 48, 64], "non-square test image")
            XCTAssertEqual(vae.info("image.out")?.shape, x.shape)
            XCTAssertEqual(vae.info("latent.mode")?.shape, [1, model == "zimage" ? 16 : 32, 6, 8])
        }
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/tokenizer/fixture.json"))) as! [String: Any]
        XCTAssertGreaterThanOrEqual((fixture["texts"] as! [Any]).count, 290)
        let chat = fixture["chat"] as! [[String: Any]]
        XCTAssertEqual(Set(chat.map { $0["pipeline"] as! String }), ["ZImagePipeline", "Flux2KleinPipeline"])
        XCTAssertTrue(chat.allSatisfy { ($0["input_ids"] as! [Int]).count == 512 && ($0["attention_mask"] as! [Int]).count == 512 })
        let gz = FileManager.default.contents(atPath: root + "/tokenizer/tokenizer.json.gz") ?? Data()
        XCTAssertEqual(Array(gz.prefix(2)), [0x1f, 0x8b], "gzip")
    }

    func testClosenessMetric() throws {
        let a = Tensor(shape: [3], floats: [1, 2, 3.5])
        let b = Tensor(shape: [3], floats: [1, 2, 4])
        let c = Closeness(actual: a, expected: b)
        XCTAssertEqual(c.relative, 0.125)
        XCTAssertEqual(c.worstIndex, 2)
        XCTAssertEqual(assertReferenceClose(a, a, tolerance: 0, "identical")?.relative, 0)
        let m = assertImagesMatch([0, 10, 255, 7], [1, 10, 254, 7], "within a level")
        XCTAssertEqual(m?.0, 1)
        XCTAssertEqual(m?.1, 1)
    }
}
