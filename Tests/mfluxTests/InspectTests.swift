import Foundation
import SafetensorsIO
import TensorKit
import XCTest

final class InspectTests: XCTestCase {
    static let fixtures = MFluxBinary.repositoryRoot + "/Packages/SafetensorsIO/Tests/SafetensorsIOTests/Fixtures"

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "mflux-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// Names listed by `mflux inspect` (first field of each tensor line).
    func listedNames(_ out: String) -> [String] {
        out.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("metadata ") }.map { String($0.split(separator: " ")[0]) }
    }

    func testListsEveryTensorOfAFile() throws {
        let path = Self.fixtures + "/python_bf16.safetensors"
        let r = try MFluxBinary.run(["inspect", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(listedNames(r.stdout), try SafetensorsFile(path: path).tensorNames)
        XCTAssertTrue(r.stdout.contains("weight.bf16  BF16  [3, 5]  30 B"), r.stdout)
        XCTAssertTrue(r.stdout.contains("metadata format = pt"), r.stdout)
    }

    func testStatsAndFilter() throws {
        let path = Self.fixtures + "/python_bf16.safetensors"
        let r = try MFluxBinary.run(["inspect", path, "--stats", "--filter", "^weight\\.f"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(listedNames(r.stdout), ["weight.f16", "weight.f32"])
        XCTAssertTrue(r.stdout.contains("weight.f32  F32  [2, 2]  16 B  min=-2 max=inf mean=-0.166667"), r.stdout)
        let bad = try MFluxBinary.run(["inspect", path, "--filter", "("])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderrLines.count, 1, bad.stderr)
    }

    func testListsShardedFolderAndIndex() throws {
        for target in [Self.fixtures + "/sharded", Self.fixtures + "/sharded/model.safetensors.index.json"] {
            let r = try MFluxBinary.run(["inspect", target])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(listedNames(r.stdout), ["layers.0.weight", "layers.1.weight", "norm.weight"])
            XCTAssertTrue(r.stdout.contains("2 shards"), r.stdout)
        }
    }

    /// A diffusers pipeline folder: every component with weights is listed, prefixed with its
    /// name; components without weights are named.
    func testListsPipelineFolder() throws {
        let root = try temporaryDirectory()
        let fm = FileManager.default
        for c in ["transformer", "vae", "text_encoder", "tokenizer", "scheduler"] {
            try fm.createDirectory(atPath: root + "/" + c, withIntermediateDirectories: true)
        }
        let modelIndex = #"{"_class_name": "ZImagePipeline", "_diffusers_version": "0.42.1", "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"], "text_encoder": ["transformers", "Qwen3Model"], "tokenizer": ["transformers", "Qwen2Tokenizer"], "transformer": ["diffusers", "ZImageTransformer2DModel"], "vae": ["diffusers", "AutoencoderKL"], "unused": [null, null]}"#
        try modelIndex.write(toFile: root + "/model_index.json", atomically: true, encoding: .utf8)
        try "{}".write(toFile: root + "/scheduler/scheduler_config.json", atomically: true, encoding: .utf8)
        try "{}".write(toFile: root + "/tokenizer/tokenizer.json", atomically: true, encoding: .utf8)
        let t = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        try SafetensorsWriter.write(["a.weight": t], to: root + "/transformer/diffusion_pytorch_model-00001-of-00002.safetensors")
        try SafetensorsWriter.write(["b.weight": t, "b.bias": Tensor(shape: [2], floats: [0, 1])], to: root + "/transformer/diffusion_pytorch_model-00002-of-00002.safetensors")
        try #"{"metadata": {"total_size": 40}, "weight_map": {"a.weight": "diffusion_pytorch_model-00001-of-00002.safetensors", "b.weight": "diffusion_pytorch_model-00002-of-00002.safetensors", "b.bias": "diffusion_pytorch_model-00002-of-00002.safetensors"}}"#
            .write(toFile: root + "/transformer/diffusion_pytorch_model.safetensors.index.json", atomically: true, encoding: .utf8)
        try SafetensorsWriter.write(["decoder.conv_in.weight": t], to: root + "/vae/diffusion_pytorch_model.safetensors")
        try SafetensorsWriter.write(["embed_tokens.weight": t.converted(to: .bfloat16, context: ComputeContext(threadCount: 1))], to: root + "/text_encoder/model.safetensors")
        let r = try MFluxBinary.run(["inspect", root])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(listedNames(r.stdout), ["text_encoder/embed_tokens.weight", "transformer/a.weight", "transformer/b.bias", "transformer/b.weight", "vae/decoder.conv_in.weight"])
        XCTAssertTrue(r.stdout.contains("# tokenizer (Qwen2Tokenizer): no tensors"), r.stdout)
        XCTAssertTrue(r.stdout.contains("# transformer (ZImageTransformer2DModel): 2 shards, 3 tensors"), r.stdout)
        // Incomplete: a listed component without its folder.
        try fm.removeItem(atPath: root + "/vae")
        let bad = try MFluxBinary.run(["inspect", root])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderrLines.count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("vae"), bad.stderr)
        XCTAssertEqual(bad.stdout, "")
    }

    /// Each malformed case of the SafetensorsIO tests exits 1 with exactly one line on stderr.
    func testMalformedCasesExitOneWithOneLine() throws {
        let dir = Self.fixtures + "/malformed"
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/cases.json"))) as! [String: String]
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for name in cases.keys.sorted() {
            let r = try MFluxBinary.run(["inspect", dir + "/" + name])
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            XCTAssertEqual(r.stderrLines.count, 1, "\(name): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("mflux: error: "), "\(name): \(r.stderr)")
            XCTAssertEqual(r.stdout, "", name)
        }
        let missing = try MFluxBinary.run(["inspect", dir + "/no-such-file.safetensors"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderrLines.count, 1)
    }
}
