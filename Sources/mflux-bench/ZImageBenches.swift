import Foundation
import ModelZoo
import TensorKit

/// Z-Image benchmarks at the real width (random bf16 weights): a block, and its primitives one by one.
extension Bench {
    /// `mflux-bench zimage-block` (see the usage in Bench.swift).
    static func zimageBlock(_ args: [String], _ ctx: ComputeContext) throws {
        let nLayers = arg(args, 1, 1), imgTokens = arg(args, 2, 1024), capTokens = arg(args, 3, 128)
        var config = ZImageTransformerConfig()
        config.nLayers = nLayers
        config.nRefinerLayers = 0
        let weights = RandomWeights(dtype: .bfloat16)
        let model = try weights.build(context: ctx) { (loader: WeightLoader) throws(ModelError) in
            try ZImageTransformer2DModel(config: config, loader: loader)
        }
        let side = Int(Double(imgTokens).squareRoot())
        let latent = filled([16, 1, 2 * side, 2 * side], seed: 9)
        let caption = filled([capTokens, config.capFeatDim], seed: 10)
        var y = Tensor(zeros: [1])
        let t = best(2) { y = try! model(latent: latent, t: 0.5, caption: caption, context: ctx) }
        print(String(format: "zimage-block layers=%d tokens=%d+%d best=%.3fs", nLayers, side * side, capTokens, t))
        // MFLUX_QUANTIZE=BITS: the same weights quantized as `-q BITS` loads them, timed, and
        // the output's relative difference from the unquantized model's.
        if let bits = quantizeBits {
            let loader = WeightLoader(source: weights, component: "transformer")
            loader.quantization = try WeightQuantization(bits: bits, context: ctx)
            let qmodel = try ZImageTransformer2DModel(config: config, loader: loader)
            var yq = Tensor(zeros: [1])
            let tq = best(2) { yq = try! qmodel(latent: latent, t: 0.5, caption: caption, context: ctx) }
            print(String(format: "zimage-block -q %d best=%.3fs ratio to unquantized %.2f rel diff %.2e", bits, tq, tq / t, relDiff(yq, y, ctx)))
        }
        withExtendedLifetime(y) {}
    }

    /// `mflux-bench zimage-ops` (see the usage in Bench.swift).
    static func zimageOps(_ args: [String], _ ctx: ComputeContext) throws {
        // The primitives of one full-width Z-Image block at `tokens` rows, each timed alone
        // (best of 3), to see where a block's time goes on this machine.
        let sTok = arg(args, 1, 1152), dim = 3840, hidden = 10240, heads = 30
        let x = filled([sTok, dim], seed: 11), hx = filled([sTok, hidden], seed: 12)
        let wq = filled([dim, dim], seed: 13).converted(to: .bfloat16, context: ctx)
        let w1 = filled([hidden, dim], seed: 14).converted(to: .bfloat16, context: ctx)
        let w2 = filled([dim, hidden], seed: 15).converted(to: .bfloat16, context: ctx)
        let scale = filled([1, dim], seed: 16), nw = filled([dim], seed: 17), hw = filled([128], seed: 18)
        let q = filled([1, sTok, heads, 128], seed: 19)
        var y = Tensor(zeros: [1])
        func row(_ name: String, _ count: Int, _ body: () -> Void) {
            let t = best(3, body)
            print(name.padding(toLength: 28, withPad: " ", startingAt: 0)
                  + String(format: " x%-2d %8.2f ms  (%.1f ms per block)", count, t * 1e3, t * 1e3 * Double(count)))
        }
        row("linear 3840->3840", 4) { y = ctx.linear(x, weight: wq) }
        row("linear 3840->10240", 2) { y = ctx.linear(x, weight: w1) }
        row("linear 10240->3840", 1) { y = ctx.linear(hx, weight: w2) }
        row("attention 30x128", 1) { y = ctx.scaledDotProductAttention(query: q, key: q, value: q) }
        row("rmsNorm [S,3840]", 4) { y = ctx.rmsNorm(x, weight: nw, eps: 1e-5) }
        row("rmsNorm heads [S,30,128]", 2) { y = ctx.rmsNorm(q, weight: hw, eps: 1e-5) }
        row("mul broadcast [1,3840]", 4) { y = ctx.mul(x, scale) }
        row("add [S,3840]", 2) { y = ctx.add(x, x) }
        row("siluMul [S,10240]", 1) { y = ctx.siluMul(hx, hx) }
        withExtendedLifetime(y) {}
    }
}
