import Foundation
import TensorKit
import XCTest

/// One group of the numpy-generated op fixtures (scripts/reference/make_tensorkit_fixtures.py):
/// float arrays, scalars and integer lists.
struct FixtureGroup: Sendable {
    var arrays: [String: Tensor] = [:]
    var numbers: [String: Double] = [:]
    var intLists: [String: [Int]] = [:]
    var intMatrices: [String: [[Int]]] = [:]
}

enum Fixtures {
    static let ops: [String: FixtureGroup] = {
        guard let url = Bundle.module.url(forResource: "ops", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            fatalError("Fixtures/ops.json is missing or unreadable")
        }
        var groups: [String: FixtureGroup] = [:]
        for (name, value) in obj {
            var g = FixtureGroup()
            for (key, v) in value as! [String: Any] {
                if let entry = v as? [String: Any], let shape = entry["shape"] as? [Int], let d = entry["data"] as? [Any] {
                    let values: [Float] = d.map { x in
                        if let s = x as? String { return s == "inf" ? .infinity : s == "-inf" ? -.infinity : .nan }
                        return Float((x as! NSNumber).doubleValue)
                    }
                    g.arrays[key] = Tensor(shape: shape, floats: values)
                } else if let n = v as? NSNumber {
                    g.numbers[key] = n.doubleValue
                } else if let m = v as? [[Int]] {
                    g.intMatrices[key] = m
                } else if let l = v as? [Int] {
                    g.intLists[key] = l
                }
            }
            groups[name] = g
        }
        return groups
    }()

    static func group(_ name: String) -> FixtureGroup {
        guard let g = ops[name] else { fatalError("fixture group \(name) missing") }
        return g
    }

    /// A fixture array as a float32 tensor.
    static func tensor(_ group: FixtureGroup, _ key: String) -> Tensor {
        guard let t = group.arrays[key] else { fatalError("fixture array \(key) missing") }
        return t
    }

    static func double(_ group: FixtureGroup, _ key: String) -> Double {
        guard let d = group.numbers[key] else { fatalError("fixture number \(key) missing") }
        return d
    }
}

/// Contexts for every kernel path this CPU supports (each op is checked on each).
func supportedContexts(threads: Int = 2) throws -> [ComputeContext] {
    try KernelPath.allCases.filter(\.isSupported).map { try ComputeContext(threadCount: threads, kernelPath: $0) }
}

/// Asserts `actual` is close to `expected` element-wise: |a - e| <= atol + rtol·|e|, identical
/// infinities, NaN only where expected. Reports the worst element.
func assertClose(_ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let ctx = try! ComputeContext(threadCount: 1, kernelPath: .scalar)
    let a = actual.floats(context: ctx), e = expected.floats(context: ctx)
    var worst = -1, worstExcess: Float = 0
    for i in 0..<a.count {
        if e[i].isNaN { if !a[i].isNaN { worst = i; break }; continue }
        if e[i].isInfinite { if a[i] != e[i] { worst = i; break }; continue }
        let err = abs(a[i] - e[i])
        let excess = err - (atol + rtol * abs(e[i]))
        if !(excess <= 0) && (worst < 0 || excess > worstExcess || excess.isNaN) { worst = i; worstExcess = excess }
    }
    if worst >= 0 {
        XCTFail("\(what): element \(worst) is \(a[worst]), expected \(e[worst]) (rtol \(rtol), atol \(atol))", file: file, line: line)
    }
}
