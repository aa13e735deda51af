import Foundation
import ModelZoo
import TensorKit

/// FLUX.2-klein-4B benchmarks at the real width (random bf16 weights): the block primitives, the transformer split by blocks, one single block's operations in order.
extension Bench {
    /// `mflux-bench klein-ops` (see the usage in Bench.swift).
    static func kleinOps(_ args: [String], _ ctx: ComputeContext) throws {
        // The primitives of FLUX.2-klein-4B's blocks at 512² (1024 image + 512 text tokens).
        let si = arg(args, 1, 1024), st = arg(args, 2, 512), s = si + st, d = 3072, hidden = 9216, heads = 24
        let x = filled([s, d], seed: 11), xi = filled([si, d], seed: 12)
        let joined = filled([s, d + hidden], seed: 13), ffh = filled([si, hidden], seed: 14)
        let wFused = filled([3 * d + 2 * hidden, d], seed: 15).converted(to: .bfloat16, context: ctx)
        let wOut = filled([d, d + hidden], seed: 16).converted(to: .bfloat16, context: ctx)
        let wQ = filled([d, d], seed: 17).converted(to: .bfloat16, context: ctx)
        let wIn = filled([2 * hidden, d], seed: 18).converted(to: .bfloat16, context: ctx)
        let wFOut = filled([d, hidden], seed: 19).converted(to: .bfloat16, context: ctx)
        let q = filled([1, s, heads, 128], seed: 20)
        var y = Tensor(zeros: [1])
        var parts: [Tensor] = []
        func row(_ name: String, _ count: Int, flops: Double = 0, _ body: () -> Void) {
            let t = best(3, body)
            let rate = flops > 0 ? String(format: "  %.0f GFLOP/s", flops / t / 1e9) : ""
            print(name.padding(toLength: 30, withPad: " ", startingAt: 0)
                  + String(format: " x%-2d %8.2f ms  (%.1f ms per step)", count, t * 1e3, t * 1e3 * Double(count)) + rate)
        }
        let sd = Double(s), sid = Double(si), dd = Double(d), hd = Double(hidden)
        row("single: fused in 3072->27648", 2, flops: 2 * sd * dd * (3 * dd + 2 * hd)) { y = ctx.linear(x, weight: wFused) }
        row("single: out 12288->3072", 2, flops: 2 * sd * (dd + hd) * dd) { y = ctx.linear(joined, weight: wOut) }
        row("double: q/k/v/out img 3072²", 4, flops: 2 * sid * dd * dd) { y = ctx.linear(xi, weight: wQ) }
        row("double: ff in 3072->18432", 1, flops: 2 * sid * dd * 2 * hd) { y = ctx.linear(xi, weight: wIn) }
        row("double: ff out 9216->3072", 1, flops: 2 * sid * hd * dd) { y = ctx.linear(ffh, weight: wFOut) }
        row("attention 24x128", 3) { y = ctx.scaledDotProductAttention(query: q, key: q, value: q) }
        row("layerNorm [S,3072]", 5) { y = ctx.layerNorm(x, eps: 1e-6) }
        row("split [S,27648]", 2) { parts = joined.split(sizes: [d, hidden], axis: 1) }
        row("concat [S,3072|9216]", 2) { y = Tensor.concat(parts, axis: 1) }
        row("siluMul [S,9216]", 3) { y = ctx.siluMul(parts[1], parts[1]) }
        withExtendedLifetime((y, parts)) {}
    }

    /// `mflux-bench klein-step` (see the usage in Bench.swift).
    static func kleinStep(_ args: [String], _ ctx: ComputeContext) throws {
        // FLUX.2-klein-4B's transformer (real width, random bf16 weights) at `img` + `txt`
        // tokens with `double` + `single` blocks, and the same without blocks (embedders,
        // modulations, final layer), to split a step's time.
        let si = arg(args, 1, 1024), st = arg(args, 2, 512), nDouble = arg(args, 3, 1), nSingle = arg(args, 4, 2)
        func model(_ d: Int, _ s: Int) throws -> (Flux2Transformer2DModel, RandomWeights) {
            var config = Flux2TransformerConfig()
            config.numLayers = d
            config.numSingleLayers = s
            config.numAttentionHeads = 24
            config.jointAttentionDim = 7680
            config.guidanceEmbeds = false
            let weights = RandomWeights(dtype: .bfloat16)
            let model = try weights.build(context: ctx) { (loader: WeightLoader) throws(ModelError) in
                try Flux2Transformer2DModel(config: config, loader: loader)
            }
            return (model, weights)
        }
        let side = Int(Double(si).squareRoot())
        let x = filled([side * side, 128], seed: 21), text = filled([st, 7680], seed: 22)
        for (d, s) in [(nDouble, nSingle), (nDouble, 0), (0, 0)] {
            let (m, weights) = try model(d, s)
            let imageIds = (0..<(side * side)).map { [0, $0 / side, $0 % side, 0] }
            let textIds = (0..<st).map { [0, 0, 0, $0] }
            let rope = m.rope(textIds: textIds, imageIds: imageIds)
            var y = Tensor(zeros: [1])
            let t = best(3) { y = try! m(hiddenStates: x, encoderHiddenStates: text, timestep: 0.5, rope: rope, context: ctx) }
            print(String(format: "klein-step double=%d single=%d tokens=%d+%d best=%.3fs", d, s, side * side, st, t))
            if let bits = quantizeBits, d == nDouble, s == nSingle {
                let loader = WeightLoader(source: weights, component: "transformer")
                loader.quantization = try WeightQuantization(bits: bits, context: ctx)
                let qm = try Flux2Transformer2DModel(config: m.config, loader: loader)
                var yq = Tensor(zeros: [1])
                let tq = best(3) { yq = try! qm(hiddenStates: x, encoderHiddenStates: text, timestep: 0.5, rope: rope, context: ctx) }
                print(String(format: "klein-step -q %d best=%.3fs ratio to unquantized %.2f rel diff %.2e", bits, tq, tq / t, relDiff(yq, y, ctx)))
                // The weights' share of that error: float activations with the dequantized weights.
                let dq = RandomWeights(dtype: .float32)
                for (name, w) in weights.made {
                    dq.made[name] = w.rank == 2 && w.shape[1] % 64 == 0
                        ? try QuantizedMatrix.quantize(w, bits: bits, context: ctx).dequantized(context: ctx) : w
                }
                let wm = try Flux2Transformer2DModel(config: m.config, loader: WeightLoader(source: dq, component: "transformer"))
                let yw = try wm(hiddenStates: x, encoderHiddenStates: text, timestep: 0.5, rope: rope, context: ctx)
                print(String(format: "klein-step weights-only -q %d (float activations) rel diff %.2e", bits, relDiff(yw, y, ctx)))
            }
            withExtendedLifetime(y) {}
        }
    }

    /// `mflux-bench klein-single-trace` (see the usage in Bench.swift).
    static func kleinSingleTrace(_ args: [String], _ ctx: ComputeContext) throws {
        // One FLUX.2-klein-4B single block's operations in the model's order (public TensorKit
        // calls), each timed where it runs, to find time that the isolated rows do not show.
        let sTok = arg(args, 1, 1536), d = 3072, hidden = 9216, heads = 24
        let h = filled([sTok, d], seed: 31), shift = filled([1, d], seed: 32), scale = filled([1, d], seed: 33)
        let gate = filled([1, d], seed: 34), nq = filled([128], seed: 35), nk = filled([128], seed: 36)
        let wFused = filled([3 * d + 2 * hidden, d], seed: 37).converted(to: .bfloat16, context: ctx)
        let wOut = filled([d, d + hidden], seed: 38).converted(to: .bfloat16, context: ctx)
        var cosT = [Float](repeating: 0, count: sTok * 64), sinT = cosT
        for i in 0..<cosT.count { cosT[i] = Float(Foundation.cos(Double(i) * 0.001)); sinT[i] = Float(Foundation.sin(Double(i) * 0.001)) }
        let rope = RopeTable(positions: sTok, halfDim: 64, cos: cosT, sin: sinT)
        var totals: [(String, Double)] = []
        func timed(_ name: String, _ body: () -> Tensor) -> Tensor {
            let t0 = now(); let r = body(); let t = now() - t0
            if let i = totals.firstIndex(where: { $0.0 == name }) { totals[i].1 = min(totals[i].1, t) } else { totals.append((name, t)) }
            return r
        }
        for _ in 0..<3 {
            let t0 = now()
            let one = Tensor(shape: [], floats: [1])
            let ln = timed("layerNorm") { ctx.layerNorm(h, eps: 1e-6) }
            let sc = timed("1 + scale") { ctx.add(one, scale) }
            let m1 = timed("mul scale") { ctx.mul(sc, ln) }
            let x = timed("add shift") { ctx.add(m1, shift) }
            let fused = timed("linear fused") { ctx.linear(x, weight: wFused) }
            var parts: [Tensor] = []
            _ = timed("split") { parts = fused.split(sizes: [3 * d, 2 * hidden], axis: 1); return parts[0] }
            var qkv: [Tensor] = []
            _ = timed("chunked 3") { qkv = parts[0].chunked(3, axis: 1); return qkv[0] }
            let q = timed("rmsNorm q") { ctx.rmsNorm(qkv[0].reshaped([1, sTok, heads, 128]), weight: nq, eps: 1e-6) }
            let k = timed("rmsNorm k") { ctx.rmsNorm(qkv[1].reshaped([1, sTok, heads, 128]), weight: nk, eps: 1e-6) }
            let qr = timed("rope q") { ctx.applyRope(q, table: rope, layout: .interleaved) }
            let kr = timed("rope k") { ctx.applyRope(k, table: rope, layout: .interleaved) }
            let o = timed("attention") { ctx.scaledDotProductAttention(query: qr, key: kr, value: qkv[2].reshaped([1, sTok, heads, 128])) }
            var ab: [Tensor] = []
            _ = timed("chunked 2") { ab = parts[1].chunked(2, axis: 1); return ab[0] }
            let g = timed("siluMul") { ctx.siluMul(ab[0], ab[1]) }
            let joined = timed("concat") { Tensor.concat([o.reshaped([sTok, d]), g], axis: 1) }
            let y = timed("linear out") { ctx.linear(joined, weight: wOut) }
            let gy = timed("mul gate") { ctx.mul(gate, y) }
            let r = timed("add residual") { ctx.add(h, gy) }
            withExtendedLifetime(r) {}
            print(String(format: "single block (replica) %.3fs", now() - t0))
        }
        for (name, t) in totals { print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " %8.2f ms", t * 1e3)) }
        print(String(format: "sum of best       %8.2f ms", totals.reduce(0) { $0 + $1.1 } * 1e3))
    }
}
