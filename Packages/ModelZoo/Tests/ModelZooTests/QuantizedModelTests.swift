import Foundation
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// Both transformers loaded with `-q` (every linear whose input is a multiple of 64 quantized as
/// it loads) against diffusers' fp32 output on the first step of the base cases: the error grows
/// as the bits shrink and stays within the bars measured here.
final class QuantizedModelTests: XCTestCase {
    let ctx = try! ComputeContext()

    func relative(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.floats(context: ctx), y = b.floats(context: ctx)
        var worst = 0.0, scale = 0.0
        for i in 0..<x.count { worst = max(worst, Double(abs(x[i] - y[i]))); scale = max(scale, Double(abs(y[i]))) }
        return worst / scale
    }

    func zimageOutput(_ c: ReferenceCase, bits: Int?) throws -> Tensor {
        let q = try bits.map { try WeightQuantization(bits: $0, context: ctx) }
        let model = try ZImageTransformer2DModel(folder: c.checkpointPath! + "/transformer", quantization: q)
        let x = try c.tensor("step.0.transformer.in.x")
        let t = try c.tensor("step.0.transformer.in.t").floats(context: ctx)
        return try model(latent: x.chunked(x.shape[0], axis: 0)[0].reshaped(Array(x.shape.dropFirst())), t: t[0],
                         caption: try c.tensor("transformer.in.cap.0"), context: ctx)
    }

    func kleinOutput(_ c: ReferenceCase, bits: Int?) throws -> Tensor {
        let q = try bits.map { try WeightQuantization(bits: $0, context: ctx) }
        let model = try Flux2Transformer2DModel(folder: c.checkpointPath! + "/transformer", quantization: q)
        let (h, w) = (c.manifestValue("height")!.intValue! / 16, c.manifestValue("width")!.intValue! / 16)
        let rope = model.rope(textIds: Flux2Latents.textIds(count: 512), imageIds: Flux2Latents.imageIds(height: h, width: w))
        let x = try c.tensor("step.0.transformer.in.hidden_states"), text = try c.tensor("transformer.in.encoder_hidden_states")
        let t = try c.tensor("step.0.transformer.in.timestep").floats(context: ctx)[0]
        return try model(hiddenStates: x.reshaped(Array(x.shape.dropFirst())), encoderHiddenStates: text.reshaped(Array(text.shape.dropFirst())),
                         timestep: t, rope: rope, context: ctx)
    }

    func testQuantizedTransformersAgainstDiffusers() throws {
        // Bars: 1.5x the relative error measured (max |diff| / max |diffusers|; the same on every
        // kernel path: the integer sums are exact). Measured, Z-Image: 2.2e-2, 8.9e-2, 0.34, 0.48;
        // klein: 1.2e-2, 4.0e-2, 0.13, 0.24 (8 / 6 / 4 / 3 bits; tiny random-weight models).
        let bars: [String: [Int: Double]] = ["zimage": [8: 0.035, 6: 0.14, 4: 0.5, 3: 0.75],
                                             "klein": [8: 0.02, 6: 0.06, 4: 0.2, 3: 0.4]]
        var rows: [String] = []
        for (name, run, key) in [("zimage/cases/nonsquare_4steps", zimageOutput, "step.0.transformer.out"),
                                 ("klein/cases/nonsquare_4steps", kleinOutput, "step.0.transformer.out")] as [(String, (ReferenceCase, Int?) throws -> Tensor, String)] {
            let c = try ReferenceCase(name)
            var expected = try c.tensor(key)
            if name.hasPrefix("zimage") { expected = expected.chunked(expected.shape[0], axis: 0)[0] }
            let fp32 = try run(c, nil)
            let base = relative(fp32.reshaped(expected.shape), expected)
            XCTAssertLessThan(base, 1e-4, "\(name) unquantized")
            var previous = base
            for bits in [8, 6, 4, 3] {
                let r = relative(try run(c, bits).reshaped(expected.shape), expected)
                rows.append(String(format: "%@ -q %d: rel %.2e", name, bits, r))
                XCTAssertLessThanOrEqual(r, bars[String(name.prefix { $0 != "/" })]![bits]!, "\(name) -q \(bits)")
                XCTAssertGreaterThan(r, previous * 0.9, "\(name): fewer bits, more error (the layers were quantized)")
                previous = r
            }
        }
        print("measured " + rows.joined(separator: "; "))
        XCTAssertEqual(rows.count, 8)
    }

    func testQuantizationRejectsUnsupportedBits() {
        XCTAssertThrowsError(try WeightQuantization(bits: 7, context: ctx))
        XCTAssertThrowsError(try WeightQuantization(bits: 8, groupSize: 48, context: ctx))
    }
}
