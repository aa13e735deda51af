import Foundation
import ModelZoo
import ReferenceTesting
import SafetensorsIO
import TensorKit
import XCTest

final class ModelRegistryTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testDescriptorsByAliasAndRepository() {
        let d = ModelRegistry.descriptor(named: "Z-Image-Turbo")
        XCTAssertEqual(d?.repoId, "Tongyi-MAI/Z-Image-Turbo")
        XCTAssertEqual(d?.defaults, GenerationDefaults(steps: 9, width: 1024, height: 1024, guidance: 0, usesGuidance: true))
        XCTAssertEqual(ModelRegistry.descriptor(named: "tongyi-mai/z-image-turbo")?.name, "z-image-turbo")
        XCTAssertNil(ModelRegistry.descriptor(named: "sdxl"))
        XCTAssertEqual(d?.downloadCommand, "hf download Tongyi-MAI/Z-Image-Turbo")
        let names = ModelRegistry.descriptors.flatMap { [$0.name] + $0.aliases }.map { $0.lowercased() }
        XCTAssertEqual(Set(names).count, names.count, "no alias names two models")
    }

    func testResolveFolderAliasAndCache() throws {
        let root = try ReferenceExports.root()
        let folder = root + "/zimage/checkpoints/base"
        XCTAssertEqual(try ModelRegistry.resolve(folder).path, folder)
        XCTAssertNil(try ModelRegistry.resolve(folder).descriptor)
        let dir = try temporaryDirectory()
        // Not downloaded: the error says how to download.
        XCTAssertThrowsError(try ModelRegistry.resolve("z-image-turbo", environment: ["HF_HOME": dir])) {
            XCTAssertTrue("\($0)".contains("hf download Tongyi-MAI/Z-Image-Turbo"), "\($0)")
        }
        // A snapshot named by refs/main; HF_HUB_CACHE wins over HF_HOME.
        let repo = dir + "/hub/models--Tongyi-MAI--Z-Image-Turbo"
        try FileManager.default.createDirectory(atPath: repo + "/snapshots", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repo + "/refs", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: repo + "/snapshots/abc", withDestinationPath: folder)
        try "abc\n".write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        let r = try ModelRegistry.resolve("z-image-turbo", environment: ["HF_HOME": dir])
        XCTAssertEqual(r.path, repo + "/snapshots/abc")
        XCTAssertEqual(r.descriptor?.name, "z-image-turbo")
        XCTAssertEqual(try ModelRegistry.resolve("Tongyi-MAI/Z-Image-Turbo", environment: ["HF_HUB_CACHE": dir + "/hub"]).path, repo + "/snapshots/abc")
        XCTAssertThrowsError(try ModelRegistry.resolve("z-image-turbo", environment: ["HF_HOME": dir, "HF_HUB_CACHE": dir + "/elsewhere"]))
        XCTAssertEqual(HuggingFaceCache.root(environment: ["HOME": "/h"]), "/h/.cache/huggingface/hub")

        // Any other repository in the cache, e.g. one holding a folder saved by mflux (a
        // pre-quantized model): resolved to its snapshot and recognised by its tensors.
        let saved = dir + "/hub/models--someone--klein-4b-mflux-8bit"
        try FileManager.default.createDirectory(atPath: saved + "/snapshots", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: saved + "/refs", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: saved + "/snapshots/def", withDestinationPath: root + "/mflux/klein-q8")
        try "def\n".write(toFile: saved + "/refs/main", atomically: true, encoding: .utf8)
        let q = try ModelRegistry.resolve("someone/klein-4b-mflux-8bit", environment: ["HF_HOME": dir])
        XCTAssertEqual(q.path, saved + "/snapshots/def")
        XCTAssertNil(q.descriptor)
        XCTAssertTrue(try ModelRegistry.modelClass(path: q.path) == Flux2Klein.self)
        XCTAssertThrowsError(try ModelRegistry.resolve("someone/not-downloaded", environment: ["HF_HOME": dir])) {
            XCTAssertTrue("\($0)".contains("nor in the Hugging Face cache"), "\($0)")
        }
    }

    func testBadModelsAreOneLineErrors() throws {
        let root = try ReferenceExports.root()
        for (model, words) in [("sdxl", "unknown model sdxl"), ("./nope", "does not exist"), ("org/unknown", "does not exist"),
                               (root + "/index.json", "is a file")] {
            XCTAssertThrowsError(try ModelRegistry.resolve(model)) {
                XCTAssertTrue("\($0)".contains(words), "\(model): \($0)")
                XCTAssertFalse("\($0)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try ModelRegistry.modelClass(path: root + "/zimage")) { XCTAssertTrue("\($0)".contains("model_index.json"), "\($0)") }
        XCTAssertTrue(try ModelRegistry.modelClass(path: root + "/zimage/checkpoints/base") == ZImageTurbo.self)
    }

    func testGeneratorFromTheRegistry() throws {
        let g = try ModelRegistry.generator(path: try ReferenceExports.root() + "/zimage/checkpoints/base", residency: .lowMemory)
        XCTAssertEqual(g.defaults.steps, 9)
        XCTAssertTrue(g is Generator<ZImageTurbo>)
    }
    /// bf16 is the default only for a bf16 transformer at a published model's width, on a CPU
    /// with AVX512-BF16; float32, quantized-looking, narrow and unreadable transformers stay fp32.
    func testDefaultPrecisionFollowsStoredDTypeWidthAndCPU() throws {
        let ctx = try ComputeContext(threadCount: 1)
        func folder(_ tensors: [String: Tensor]) throws -> String {
            let dir = try temporaryDirectory()
            try FileManager.default.createDirectory(atPath: dir + "/transformer", withIntermediateDirectories: true)
            try SafetensorsWriter.write(tensors, to: dir + "/transformer/diffusion_pytorch_model.safetensors")
            return dir
        }
        func weight(_ rows: Int, _ cols: Int, _ dtype: DType) -> Tensor {
            Tensor(shape: [rows, cols], floats: [Float](repeating: 0.5, count: rows * cols)).converted(to: dtype, context: ctx)
        }
        let wide = try folder(["ff.weight": weight(1024, 2048, .bfloat16), "t.weight": weight(16, 256, .float32)])
        XCTAssertEqual(ModelRegistry.defaultPrecision(path: wide), ComputePrecision.bf16.isSupported ? .bf16 : .fp32)
        // The widest input (2048) does not decide: the largest weight's smaller side (1024 here, 512 below).
        let narrow = try folder(["ff.weight": weight(512, 4096, .bfloat16), "t.weight": weight(1024, 1024, .bfloat16)])
        XCTAssertEqual(ModelRegistry.defaultPrecision(path: narrow), .fp32)
        let float32 = try folder(["ff.weight": weight(1024, 2048, .float32)])
        XCTAssertEqual(ModelRegistry.defaultPrecision(path: float32), .fp32)
        let mostlyFloat32 = try folder(["ff.weight": weight(1024, 1024, .bfloat16), "g.weight": weight(1024, 1536, .float32)])
        XCTAssertEqual(ModelRegistry.defaultPrecision(path: mostlyFloat32), .fp32)
        XCTAssertEqual(ModelRegistry.defaultPrecision(path: try temporaryDirectory()), .fp32, "no transformer")
        // Saved 4-bit by mflux: uint32 codes [1024, 1024·4/32] count at their logical 1024 x 1024, the
        // bf16 scales and biases for the dtype (as -q 4 on the fly from a bf16 checkpoint).
        let quantized = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: quantized + "/transformer", withIntermediateDirectories: true)
        try SafetensorsWriter.write(["ff.weight": Tensor(shape: [1024, 128], scalars: [UInt32](repeating: 7, count: 1024 * 128), dtype: .uint32),
                                     "ff.scales": weight(1024, 16, .bfloat16), "ff.biases": weight(1024, 16, .bfloat16)],
                                    metadata: ["quantization_level": "4", "mflux_version": "0.24.0"], to: quantized + "/transformer/0.safetensors")
        XCTAssertEqual(ModelRegistry.defaultPrecision(path: quantized), ComputePrecision.bf16.isSupported ? .bf16 : .fp32)
        // The committed tiny checkpoints (bf16 and mflux-saved ones included) and the demo model keep
        // diffusers' float32 pixels.
        let root = try ReferenceExports.root()
        for tiny in ["zimage/checkpoints/bf16", "klein/checkpoints/wide_bf16_sharded", "zimage/checkpoints/base", "mflux/zimage-q4", "mflux/klein-bf16"] {
            XCTAssertEqual(ModelRegistry.defaultPrecision(path: root + "/" + tiny), .fp32, tiny)
        }
    }
}
