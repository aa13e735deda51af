import TensorKit
import XCTest

/// How far a result is from the reference: `rel = max|a - b| / max|b|` over the whole tensor.
public struct Closeness: Sendable, CustomStringConvertible {
    /// The relative error.
    public let relative: Double
    /// The largest absolute difference.
    public let maxAbsDiff: Double
    /// The largest reference magnitude.
    public let maxReference: Double
    /// Flat index of the largest difference.
    public let worstIndex: Int
    /// Actual and expected values at `worstIndex`.
    public let worstActual: Double, worstExpected: Double

    /// Compares two tensors of equal shape (any float dtype; computed in Double).
    public init(actual: Tensor, expected: Tensor) {
        precondition(actual.shape == expected.shape, "shapes differ: \(actual.shape) vs \(expected.shape)")
        let ctx = try! ComputeContext(threadCount: 1)
        let a = actual.floats(context: ctx), b = expected.floats(context: ctx)
        var maxDiff = 0.0, maxRef = 0.0, worst = 0
        for i in 0..<a.count {
            let d = abs(Double(a[i]) - Double(b[i]))
            if d > maxDiff || d.isNaN { maxDiff = d; worst = i }
            maxRef = max(maxRef, abs(Double(b[i])))
        }
        maxAbsDiff = maxDiff
        maxReference = maxRef
        relative = maxRef > 0 ? maxDiff / maxRef : maxDiff
        worstIndex = worst
        worstActual = a.isEmpty ? 0 : Double(a[worst])
        worstExpected = b.isEmpty ? 0 : Double(b[worst])
    }

    public var description: String {
        String(format: "rel %.3e (max |a-b| %.3e at index %d: %.7g vs %.7g; max |ref| %.4g)",
               relative, maxAbsDiff, worstIndex, worstActual, worstExpected, maxReference)
    }
}

/// Asserts `rel = max|a - b| / max|b| <= tolerance` and returns the measured closeness (so tests
/// can print and record it). Shapes must match.
@discardableResult
public func assertReferenceClose(_ actual: Tensor, _ expected: Tensor, tolerance: Double, _ what: String,
                                 file: StaticString = #filePath, line: UInt = #line,
                                 report: ((String) -> Void)? = nil) -> Closeness? {
    let fail = report ?? { XCTFail($0, file: file, line: line) }
    guard actual.shape == expected.shape else {
        fail("\(what): shape \(actual.shape) != reference \(expected.shape)")
        return nil
    }
    let c = Closeness(actual: actual, expected: expected)
    if !(c.relative <= tolerance) {
        fail("\(what): \(c) exceeds \(tolerance)")
    }
    return c
}

/// Asserts two uint8 images match the project's image policy (`report` receives the failure
/// instead of XCTFail, for tests of this helper): at least `withinOneLevel` of the
/// values within 1 level and none more than `maxLevels` apart. Returns (fraction within one
/// level, largest difference).
@discardableResult
public func assertImagesMatch(_ actual: [UInt8], _ expected: [UInt8], withinOneLevel: Double = 0.99, maxLevels: Int = 3,
                              _ what: String, file: StaticString = #filePath, line: UInt = #line,
                              report: ((String) -> Void)? = nil) -> (Double, Int)? {
    let fail = report ?? { XCTFail($0, file: file, line: line) }
    guard actual.count == expected.count, !expected.isEmpty else {
        fail("\(what): \(actual.count) pixels values vs \(expected.count)")
        return nil
    }
    var close = 0, worst = 0
    for i in 0..<actual.count {
        let d = abs(Int(actual[i]) - Int(expected[i]))
        if d <= 1 { close += 1 }
        worst = max(worst, d)
    }
    let frac = Double(close) / Double(actual.count)
    if frac < withinOneLevel || worst > maxLevels {
        fail("\(what): \(String(format: "%.4f", frac)) of values within 1 level (need \(withinOneLevel)), largest difference \(worst) (max \(maxLevels))")
    }
    return (frac, worst)
}
