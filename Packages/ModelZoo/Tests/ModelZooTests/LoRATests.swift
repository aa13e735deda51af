import Foundation
import ModelZoo
import ReferenceTesting
import SafetensorsIO
import TensorKit
import XCTest

/// LoRA against diffusers 0.42.1 + PEFT (ReferenceExports/lora, zimage|klein/cases/lora_*,
/// scripts/reference/make_lora_cases.py): every accepted key format of both models converts to the
/// A and B diffusers builds (bit for bit), the effective weights `W + Σ w·(α/r)·B·A` match, and
/// each case's image matches from the seed; files diffusers rejects (or would silently ignore)
/// are one-line errors.
final class LoRATests: XCTestCase {
    let ctx = try! ComputeContext()

    func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        let x = a.floats(context: ctx), y = b.floats(context: ctx)
        XCTAssertEqual(x.count, y.count)
        return zip(x, y).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// The case's LoRA files and weights (in `set_adapters` order; weight 1 when a single file is loaded).
    func loras(_ c: ReferenceCase, root: String) -> [LoRAWeights] {
        let adapters = c.manifestValue("lora")!["adapters"]!.arrayValue!
        return adapters.map { a in
            LoRAWeights(path: root + "/" + a["file"]!.stringValue!, scale: Float(a["set_adapters_weight"]?.doubleValue ?? 1))
        }
    }

    func testConvertedWeightsMatchDiffusers() throws {
        let root = try ReferenceExports.root()
        for model in ["zimage", "klein"] {
            let converted = try SafetensorsFile(path: root + "/lora/\(model)/converted.safetensors")
            let stems = Set(converted.tensorNames.map { String($0.prefix { $0 != "/" }) })
            XCTAssertGreaterThanOrEqual(stems.count, 4, model)
            let path = root + "/\(model)/checkpoints/base"
            for stem in stems.sorted() {
                let file = root + "/lora/\(model)/\(stem).safetensors"
                // diffusers loads these with a warning and part of the file unused; refused here.
                if ["unmatched_key", "kohya_modulation"].contains(stem) {
                    XCTAssertThrowsError(try strictLoad(model, path: path, file: file), "\(model)/\(stem)")
                    continue
                }
                let set = try layersByModule(model, path: path, file: file)
                var checked = 0
                for key in converted.tensorNames where key.hasPrefix(stem + "/") && key.hasSuffix(".lora_A.weight") {
                    let module = String(key.dropFirst(stem.count + 1 + "transformer.".count).dropLast(".lora_A.weight".count))
                    let ours = try XCTUnwrap(set[module], "\(model)/\(stem): \(module) not converted")
                    XCTAssertEqual(maxDiff(ours.down, try converted.tensor(key)), 0, "\(model)/\(stem) \(module) A")
                    XCTAssertEqual(maxDiff(ours.up, try converted.tensor(String(key.dropLast(".lora_A.weight".count)) + ".lora_B.weight")), 0,
                                   "\(model)/\(stem) \(module) B")
                    checked += 1
                }
                XCTAssertEqual(checked, set.count, "\(model)/\(stem): every layer diffusers builds, and no other")
            }
        }
    }

    /// Loads the transformer with the file's adapters (unmatched layers fail at the end).
    func strictLoad(_ model: String, path: String, file: String) throws {
        let options = LoadOptions(loras: [LoRAWeights(path: file)])
        if model == "zimage" { _ = try ZImageTurbo(modelPath: path, options: options).loadDenoiser() } else { _ = try Flux2Klein(modelPath: path, options: options).loadDenoiser() }
    }

    /// Our layers of one file (by module), for the conversion check.
    func layersByModule(_ model: String, path: String, file: String) throws -> [String: LoRAFile.Layer] {
        let f = try LoRAFile(path: file)
        let layers: [LoRAFile.Layer]
        if model == "zimage" {
            let modules = try WeightLoader(folder: path + "/transformer", component: "transformer").linearModules()
            layers = try ZImageTurbo.loraLayers(f, modules: modules, context: ctx)
        } else {
            layers = try Flux2Klein.loraLayers(f, config: try Flux2Klein(modelPath: path).transformerConfig, context: ctx)
        }
        var out: [String: LoRAFile.Layer] = [:]
        for l in layers { XCTAssertNil(out.updateValue(l, forKey: l.module), "\(file): \(l.module) twice") }
        return out
    }

    func testEveryCaseMatchesDiffusers() throws {
        let root = try ReferenceExports.root()
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/index.json"))) as! [String: Any]
        let cases = index["lora_cases"] as! [String]
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for name in cases {
            let c = try ReferenceCase(name)
            let options = LoadOptions(loras: loras(c, root: root))
            let generator = try ModelRegistry.generator(path: c.checkpointPath!, options: options)
            let request = GenerationRequest(prompt: c.manifestValue("prompt")!.stringValue!, seed: UInt64(c.manifestValue("seed")!.intValue!),
                                            steps: c.manifestValue("steps")!.intValue!, width: c.manifestValue("width")!.intValue!,
                                            height: c.manifestValue("height")!.intValue!, guidance: Float(c.manifestValue("guidance_scale")!.doubleValue!))
            let image = try generator.generate(request, imageIndex: 0, imageCount: 1, context: ctx)
            let ours = image.pixels.scalars(as: UInt8.self), expected = try c.tensor("image.uint8").scalars(as: UInt8.self)
            let diffs = zip(ours, expected).map { abs(Int($0) - Int($1)) }
            let frac = Double(diffs.filter { $0 <= 1 }.count) / Double(expected.count)
            print("measured \(name): \(frac) within 1 level, max difference \(diffs.max() ?? 0)")
            XCTAssertGreaterThanOrEqual(frac, 0.99, name)
            XCTAssertLessThanOrEqual(diffs.max() ?? 99, 3, name)
        }
    }

    func testEffectiveWeightsMatchDiffusers() throws {
        // W + Σ weight·(α/r)·B·A per merged layer of each case, from our adapters.
        let root = try ReferenceExports.root()
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/index.json"))) as! [String: Any]
        let names = index["lora_cases"] as! [String]
        XCTAssertGreaterThanOrEqual(names.count, 10)
        for name in names {
            let c = try ReferenceCase(name)
            let model = name.hasPrefix("zimage") ? "zimage" : "klein"
            let base = try Checkpoint.open(c.checkpointPath! + "/transformer")
            var adapters: [String: [LoRAAdapter]] = [:]
            for w in loras(c, root: root) {
                for (module, l) in try layersByModule(model, path: c.checkpointPath!, file: w.path) {
                    adapters[module, default: []].append(LoRAAdapter(down: l.down, up: l.up, scale: w.scale * l.scale))
                }
            }
            var checked = 0
            for key in c.manifestKeys.keys.sorted() where key.hasPrefix("lora.merged.") {
                let module = String(key.dropFirst("lora.merged.".count).dropLast(".weight".count))
                var w = try base.tensor(module + ".weight").floats(context: ctx)
                let list = try XCTUnwrap(adapters[module], "\(name): \(module)")
                for a in list {
                    let (r, inF) = (a.down.shape[0], a.down.shape[1]), out = a.up.shape[0]
                    let d = a.down.floats(context: ctx), u = a.up.floats(context: ctx)
                    for i in 0..<out { for j in 0..<inF {
                        var s: Float = 0
                        for k in 0..<r { s += u[i * r + k] * d[k * inF + j] }
                        w[i * inF + j] += a.scale * s
                    } }
                }
                let expected = try c.tensor(key).floats(context: ctx)
                let worst = zip(w, expected).map { abs($0 - $1) }.max() ?? 1
                let scale = expected.map { abs($0) }.max() ?? 1
                XCTAssertLessThan(worst / scale, 1e-5, "\(name): \(module)")
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, 2, name)
        }
    }

    func testBadLoRAFilesAreOneLineErrors() throws {
        let root = try ReferenceExports.root()
        let z = root + "/zimage/checkpoints/base", k = root + "/klein/checkpoints/base"
        let cases: [(String, String, String)] = [
            (z, "lora/zimage/unmatched_key.safetensors", "match"),
            (z, "lora/zimage/comfy_original_names.safetensors", "match no layer"),
            (z, "lora/zimage/peft_base_model.safetensors", "PEFT"),
            (z, "lora/klein/bfl.safetensors", "is for FLUX.2, not Z-Image"),
            (k, "lora/zimage/kohya.safetensors", "is for Z-Image, not FLUX.2"),
            (k, "lora/zimage/ai_toolkit.safetensors", "FLUX.2"),
            (k, "lora/klein/unmatched_key.safetensors", "match"),
            (k, "lora/klein/bfl_with_alpha.safetensors", "format"),
            (k, "lora/klein/kohya_modulation.safetensors", "drops them"),
            (k, "lora/klein/peft_non_block.safetensors", "FLUX.2"),
            (z, "lora/zimage/missing.safetensors", "does not exist"),
            (z, "zimage/checkpoints/base/model_index.json", "LoRA file"),
        ]
        for (model, file, words) in cases {
            let options = LoadOptions(loras: [LoRAWeights(path: root + "/" + file)])
            do {
                let g = try ModelRegistry.generator(path: model, options: options)
                _ = try g.generate(GenerationRequest(prompt: "p", seed: 1, steps: 1, width: 32, height: 32), imageIndex: 0, imageCount: 1, context: ctx)
                XCTFail("\(file) on \(model) loaded")
            } catch {
                let m = "\(error)"
                XCTAssertTrue(m.contains(words), "\(file) on \(model): \(m)")
                XCTAssertFalse(m.contains("\n"), m)
            }
        }
    }

    /// Found by fuzzing: an alpha of 0 or below made the alpha/rank split loop forever (as in
    /// diffusers); non-finite alphas, non-float tensors and mismatched A/B are one-line errors.
    func testDegenerateLoRAFilesFoundByFuzzing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-fuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let modules: Set<String> = ["layers.0.attention.to_q"]
        func file(_ name: String, alpha: Tensor?, down: Tensor = Tensor(shape: [2, 4], floats: [Float](repeating: 1, count: 8)),
                  up: Tensor = Tensor(shape: [4, 2], floats: [Float](repeating: 1, count: 8))) throws -> LoRAFile {
            var t = ["lora_unet_layers_0_attention_to_q.lora_down.weight": down, "lora_unet_layers_0_attention_to_q.lora_up.weight": up]
            if let alpha { t["lora_unet_layers_0_attention_to_q.alpha"] = alpha }
            try SafetensorsWriter.write(t, to: dir + "/" + name)
            return try LoRAFile(path: dir + "/" + name)
        }
        for (i, a) in [Float(0), -1, -1e30, 1e-45].enumerated() {
            let layers = try ZImageTurbo.loraLayers(try file("a\(i).safetensors", alpha: Tensor(shape: [], floats: [a])), modules: modules, context: ctx)
            XCTAssertEqual(layers.count, 1, "alpha \(a)")
        }
        XCTAssertThrowsError(try ZImageTurbo.loraLayers(try file("nan.safetensors", alpha: Tensor(shape: [], floats: [.nan])), modules: modules, context: ctx))
        XCTAssertThrowsError(try ZImageTurbo.loraLayers(try file("two.safetensors", alpha: Tensor(shape: [2], floats: [1, 2])), modules: modules, context: ctx))
        XCTAssertThrowsError(try ZImageTurbo.loraLayers(try file("shape.safetensors", alpha: nil, up: Tensor(shape: [4, 3], floats: [Float](repeating: 1, count: 12))),
                                                        modules: modules, context: ctx)) { XCTAssertTrue("\($0)".contains("expected [rank, in]"), "\($0)") }
        XCTAssertThrowsError(try file("int.safetensors", alpha: Tensor(shape: [1], scalars: [Int64(3)], dtype: .int64))) {
            XCTAssertTrue("\($0)".contains("not a float"), "\($0)")
        }
    }
}
