import Foundation
import ReferenceTesting
import SafetensorsIO
import TensorKit
import XCTest

/// `TorchGenerator.randn` against torch's CPU `randn` (every exported draw, and the initial noise
/// of every pipeline case): every element bit for bit, on the scalar (n < 16) and the vectorised
/// path, with the number of draws and cases checked.
final class TorchNoiseTests: XCTestCase {
    let ctx = try! ComputeContext(threadCount: 1)

    /// (elements equal bit for bit, largest difference in ulps).
    func compare(_ a: [Float], _ b: [Float]) -> (Int, Int) {
        var same = 0, worst = 0
        for (x, y) in zip(a, b) {
            if x.bitPattern == y.bitPattern { same += 1; continue }
            let ulps = abs(Int(Int32(bitPattern: x.bitPattern)) - Int(Int32(bitPattern: y.bitPattern)))
            worst = max(worst, x.sign == y.sign ? ulps : Int.max)
        }
        return (same, worst)
    }

    func check(_ actual: Tensor, _ expected: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) -> (Int, Int, Int) {
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        let a = actual.floats(context: ctx), b = expected.floats(context: ctx)
        let (same, worst) = compare(a, b)
        // Both paths bit for bit (the vectorised one replays the float32 Cephes polynomials of
        // torch's AVX2 kernel), as measured on every exported draw.
        XCTAssertEqual(same, a.count, "\(what): \(a.count - same) of \(a.count) elements differ (worst \(worst) ulp)", file: file, line: line)
        return (same, a.count, worst)
    }

    func testExportedDraws() throws {
        let root = try ReferenceExports.root()
        let noise = try SafetensorsFile(path: root + "/noise/tensors.safetensors")
        var same = 0, total = 0, worst = 0
        for name in noise.tensorNames where name.hasPrefix("randn.seed") {
            // randn.seed<S>.<n<N> | label_shape>
            let parts = name.split(separator: ".")
            let seed = UInt64(parts[1].dropFirst(4))!
            let expected = try noise.tensor(name)
            var g = TorchGenerator(seed: seed)
            let r = check(g.randn(expected.shape), expected, name)
            same += r.0; total += r.1; worst = max(worst, r.2)
        }
        XCTAssertGreaterThanOrEqual(total, 10_000, "the exported draws were compared")
        // Successive draws on one generator (seed 123), in key order.
        for kind in ["scalar", "vector", "mixed"] {
            var g = TorchGenerator(seed: 123)
            let keys = noise.tensorNames.filter { $0.hasPrefix("randn.sequence_\(kind).") }
                .sorted { Int($0.split(separator: ".")[2])! < Int($1.split(separator: ".")[2])! }
            XCTAssertGreaterThanOrEqual(keys.count, 2)
            for key in keys {
                let expected = try noise.tensor(key)
                let r = check(g.randn(expected.shape), expected, key)
                same += r.0; total += r.1; worst = max(worst, r.2)
            }
        }
        print("measured randn: \(same) of \(total) elements bitwise, worst \(worst) ulp")
    }

    func testInitialNoiseOfEveryCase() throws {
        let names = try ReferenceExports.caseNames()
        XCTAssertGreaterThanOrEqual(names.count, 10, "every pipeline case")
        for name in names {
            let c = try ReferenceCase(name)
            let expected = try c.tensor("noise")
            var g = TorchGenerator(seed: UInt64(c.manifestValue("seed")!.intValue!))
            let r = check(g.randn(expected.shape), expected, "\(name) noise")
            print("measured \(name) noise: \(r.0) of \(r.1) bitwise, worst \(r.2) ulp")
        }
    }

    func testSeedsModulo2To32() {
        var a = TorchGenerator(seed: 42), b = TorchGenerator(seed: 42 + (1 << 32))
        XCTAssertEqual(a.randn([37]).floats(context: ctx), b.randn([37]).floats(context: ctx))
        // mt19937 reference output for seed 5489 (the standard's default): 3499211612.
        var m = TorchGenerator(seed: 5489)
        XCTAssertEqual(m.nextUInt32(), 3_499_211_612)
    }
}
