import Foundation
import SafetensorsIO
import TensorKit
import XCTest

final class SafetensorsIOTests: XCTestCase {
    let ctx = try! ComputeContext(threadCount: 1)

    static var fixtures: String { Bundle.module.resourcePath! + "/Fixtures" }

    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testWriteThenReadBackZeroCopy() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/t.safetensors"
        let tensors: [String: Tensor] = [
            "a.f32": Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, -6]),
            "b.bf16": Tensor(shape: [3], floats: [1, 0.5, -2]).converted(to: .bfloat16, context: ctx),
            "c.ids": Tensor(shape: [2], scalars: [Int64(7), -1], dtype: .int64),
            "d.u8": Tensor(shape: [3], scalars: [UInt8(0), 128, 255], dtype: .uint8),
            "e.empty": Tensor(zeros: [0, 4]),
            "f.scalar": Tensor(shape: [], floats: [3.5]),
            "quote\"and\\slash": Tensor(shape: [1], floats: [9]),
        ]
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt", "ünïcode": "✓"], to: path)
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(file.tensorNames, tensors.keys.sorted())
        XCTAssertEqual(file.metadata, ["format": "pt", "ünïcode": "✓"])
        XCTAssertEqual(file.dataStart % 8, 0, "header padded to 8 bytes")
        for (name, t) in tensors {
            let r = try file.tensor(name)
            XCTAssertEqual(r.shape, t.shape, name)
            XCTAssertEqual(r.dtype, t.dtype, name)
            XCTAssertTrue(r.isMapped || r.byteCount == 0, "\(name) is a zero-copy view")
            XCTAssertEqual(r.withUnsafeBytes { Array($0) }, t.withUnsafeBytes { Array($0) }, name)
        }
        XCTAssertThrowsError(try file.tensor("nope")) { XCTAssertEqual($0 as? SafetensorsError, .missingTensor(path: path, tensor: "nope")) }
    }

    func testWriterRefusesToOverwriteAndIsAtomic() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/t.safetensors"
        try SafetensorsWriter.write(["x": Tensor(shape: [1], floats: [1])], to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafetensorsWriter.write(["x": Tensor(shape: [1], floats: [2])], to: path)) {
            XCTAssertEqual($0 as? SafetensorsError, .fileExists(path: path))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "refused write leaves the file untouched")
        try SafetensorsWriter.write(["x": Tensor(shape: [1], floats: [2])], to: path, policy: .replace)
        XCTAssertEqual(try SafetensorsFile(path: path).tensor("x").floats(context: ctx), [2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["t.safetensors"], "no temporary files left")
        XCTAssertThrowsError(try SafetensorsWriter.write(["x": Tensor(shape: [1], floats: [1])], to: dir + "/missing/dir/t.safetensors"))
    }

    func testReadsFileWrittenByPythonSafetensors() throws {
        let file = try SafetensorsFile(path: Self.fixtures + "/python_bf16.safetensors")
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "écrit par safetensors"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/python_bf16.json"))) as! [String: [String: Any]]
        XCTAssertEqual(Set(file.tensorNames), Set(json.keys))
        XCTAssertGreaterThanOrEqual(json.count, 5)
        let dtypes: [String: DType] = ["bfloat16": .bfloat16, "float16": .float16, "float32": .float32, "int64": .int64, "uint8": .uint8, "bool": .bool]
        for (name, e) in json {
            let t = try file.tensor(name)
            XCTAssertEqual(t.dtype, dtypes[e["dtype"] as! String], name)
            XCTAssertEqual(t.shape, e["shape"] as! [Int], name)
            let values = e["values"] as! [Any]
            if t.dtype.isComputeFloat {
                let got = t.floats(context: ctx)
                for (i, v) in values.enumerated() {
                    if let s = v as? String { XCTAssertEqual(got[i], s == "inf" ? .infinity : -.infinity, name) }
                    else { XCTAssertEqual(Double(got[i]), (v as! NSNumber).doubleValue, "\(name)[\(i)]") }
                }
                if name == "weight.f32" { XCTAssertEqual(got[3].sign, .minus, "-0 kept") }
            } else {
                XCTAssertEqual(t.integers()!, values.map { ($0 as! NSNumber).intValue }, name)
            }
        }
        XCTAssertEqual(try file.tensor("weight.bf16").dtype, .bfloat16)
        XCTAssertTrue(try file.tensor("weight.bf16").isMapped)
    }

    /// A header whose length is not a multiple of 8 puts the data at an odd address: the reader
    /// copies such tensors instead of viewing them, and the values are still right.
    func testMisalignedFileIsReadCorrectly() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/odd.safetensors"
        let header = Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[8,10]},"c":{"dtype":"I64","shape":[1],"data_offsets":[10,18]}}   "#.utf8)
        XCTAssertNotEqual((8 + header.count) % 4, 0)
        var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        bytes += [Float(1.25), -3].withUnsafeBytes { Array($0) }
        bytes += [UInt8(0x80), 0x3f]  // bf16 1.0
        bytes += withUnsafeBytes(of: Int64(-42).littleEndian) { Array($0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try SafetensorsFile(path: path)
        let a = try file.tensor("a"), b = try file.tensor("b"), c = try file.tensor("c")
        XCTAssertFalse(a.isMapped, "misaligned float32 is copied")
        XCTAssertEqual(a.floats(context: ctx), [1.25, -3])
        XCTAssertEqual(b.floats(context: ctx), [1])
        XCTAssertEqual(c.scalars(as: Int64.self), [-42])
    }

    func testShardedCheckpoint() throws {
        let cp = try ShardedCheckpoint(indexPath: Self.fixtures + "/sharded/model.safetensors.index.json")
        XCTAssertEqual(cp.tensorNames, ["layers.0.weight", "layers.1.weight", "norm.weight"])
        XCTAssertEqual(try cp.tensor("layers.0.weight").floats(context: ctx), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(try cp.tensor("layers.1.weight").dtype, .bfloat16)
        XCTAssertEqual(cp.metadata["total_size"], "40")
        XCTAssertEqual(cp.info("norm.weight")?.shape, [2])
        // The folder and the index path open the same checkpoint.
        let viaFolder = try Checkpoint.open(Self.fixtures + "/sharded")
        XCTAssertEqual(viaFolder.tensorNames, cp.tensorNames)
        XCTAssertTrue(try Checkpoint.open(Self.fixtures + "/python_bf16.safetensors") is SafetensorsFile)
    }

    /// Every malformed fixture throws the expected typed error with a one-line message; none
    /// crashes the process.
    func testMalformedInputsThrowTypedErrors() throws {
        let dir = Self.fixtures + "/malformed"
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/cases.json"))) as! [String: String]
        XCTAssertGreaterThanOrEqual(cases.count, 30)
        for (name, kind) in cases.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try Checkpoint.open(dir + "/" + name)
                XCTFail("\(name): accepted")
            } catch {
                XCTAssertEqual(error.kind, kind, "\(name): \(error)")
                XCTAssertFalse(error.description.contains("\n"), "\(name): one line")
                XCTAssertTrue(error.description.contains(name.replacingOccurrences(of: ".safetensors", with: "")), "\(name): message names the file: \(error.description)")
            }
        }
    }

    func testJSONParser() throws {
        XCTAssertEqual(try JSONParser.parse(Array(#" {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00"]} "#.utf8)),
                       .object([("a", .array([.number("1"), .number("-2.5e3"), .bool(true), .null, .string("xé😀")]))]))
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "\"\\ud800\"", "\"a\u{1}\"", "[] []", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)] {
            XCTAssertThrowsError(try JSONParser.parse(Array(bad.utf8)), bad)
        }
        XCTAssertNoThrow(try JSONParser.parse(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)))
        XCTAssertEqual(JSONValue.number("12").intValue, 12)
        XCTAssertNil(JSONValue.number("1.0").intValue)
        XCTAssertNil(JSONValue.number("99999999999999999999").intValue)
    }
}
