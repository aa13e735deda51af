import Dispatch
import Foundation
import ModelZoo
import TensorKit
import Tokenizers
#if canImport(Glibc)
import Glibc
#endif

/// Release-build micro-benchmarks of TensorKit (run by scripts/bench-*; figures are compared
/// as ratios measured in one run, never asserted in tests).
///
///   mflux-bench gemm [N] [repeats]            TensorKit's fp32 GEMM (its own thread split)
///   mflux-bench gemm-openblas [N] [repeats]   one cblas_sgemm call with OpenBLAS's own threads
///   mflux-bench gemm-bf16 [N] [repeats]       TensorKit linear with a bf16 weight
///   mflux-bench attention [S] [heads] [dim]   tiled attention (default 4096 tokens, 30 heads, 128)
///   mflux-bench conv [H] [W] [Cin] [Cout]     3x3 conv (default 256x256, 512 -> 512)
///   mflux-bench zimage-ops [tokens]             each primitive of a full-width Z-Image block, timed alone
///   mflux-bench klein-ops [img] [txt]           each primitive of FLUX.2-klein-4B's blocks, timed alone
///   mflux-bench klein-step [img] [txt] [double] [single]   FLUX.2-klein-4B transformer, random bf16 weights
///   mflux-bench klein-single-trace [tokens]     one klein single block's operations in order, each timed
///   mflux-bench qlinear [M] [K] [N] [bits]      quantized linear on each integer path vs the bf16-weight linear
///   mflux-bench tokenizer FOLDER TEXTFILE       load FOLDER/tokenizer.json, encode each line of TEXTFILE
///   mflux-bench zimage-block [layers] [img tokens] [cap tokens]   Z-Image transformer at full width
///                                               (3840, 30 heads), random bf16 weights, no refiners
@main
struct Bench {
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func filled(_ shape: [Int], seed: UInt64) -> Tensor {
        var s = seed
        let n = shape.reduce(1, *)
        var v = [Float](repeating: 0, count: n)
        for i in 0..<n {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            v[i] = Float(Int64(bitPattern: s >> 12) % 2000) / 1000 - 1
        }
        return Tensor(shape: shape, floats: v)
    }

    /// `MFLUX_QUANTIZE=BITS` in the environment (model benchmarks also run `-q BITS`).
    static var quantizeBits: Int? { ProcessInfo.processInfo.environment["MFLUX_QUANTIZE"].flatMap { Int($0) } }

    /// max |a - b| / max |b|.
    static func relDiff(_ a: Tensor, _ b: Tensor, _ ctx: ComputeContext) -> Double {
        let x = a.floats(context: ctx), y = b.floats(context: ctx)
        var worst: Float = 0, scale: Float = 0
        for i in 0..<min(x.count, y.count) { worst = max(worst, abs(x[i] - y[i])); scale = max(scale, abs(y[i])) }
        return Double(worst / max(scale, 1e-30))
    }

    /// Best time of `repeats` runs of `body`.
    static func best(_ repeats: Int, _ body: () -> Void) -> Double {
        var b = Double.infinity
        for _ in 0..<repeats {
            let t0 = now()
            body()
            b = min(b, now() - t0)
        }
        return b
    }

    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        let mode = args.first ?? "gemm"
        func arg(_ i: Int, _ d: Int) -> Int { args.count > i ? Int(args[i]) ?? d : d }
        // gemm-bf16c, and any mode with MFLUX_PRECISION=bf16, computes weight products in bf16.
        let asked = ProcessInfo.processInfo.environment["MFLUX_PRECISION"].flatMap(ComputePrecision.init(rawValue:)) ?? .fp32
        // MFLUX_AMX=0 keeps bf16 products on AVX512-BF16 where the CPU also has AMX (to compare).
        let allowAMX = ProcessInfo.processInfo.environment["MFLUX_AMX"] != "0"
        // MFLUX_THREADS=N: N workers instead of one per online CPU (scaling curves).
        let threads = ProcessInfo.processInfo.environment["MFLUX_THREADS"].flatMap { Int($0) }
        let ctx = try ComputeContext(threadCount: threads, precision: mode == "gemm-bf16c" ? .bf16 : asked, allowAMX: allowAMX)
        if mode == "gemm-bf16c" && ctx.precision != .bf16 { print("this CPU has no AVX512-BF16: bf16 compute is not available"); return }
        if let w = ctx.blas.warning { print(w) }
        print("core=\(ctx.blas.coreName) threads=\(ctx.threadCount) kernels=\(ctx.kernelPath.rawValue) precision=\(ctx.precision.rawValue) amx=\(ctx.usesAMX)")
        switch mode {
        case "gemm", "gemm-openblas", "gemm-bf16", "gemm-bf16c":
            let n = arg(1, 2048), reps = arg(2, 5)
            let a = filled([n, n], seed: 1)
            var b = filled([n, n], seed: 2)
            if mode == "gemm-bf16" || mode == "gemm-bf16c" { b = b.converted(to: .bfloat16, context: ctx) }
            var c = Tensor(zeros: [n, n])
            let flops = 2.0 * Double(n) * Double(n) * Double(n)
            let t: Double
            if mode == "gemm-openblas" {
                ctx.blas.setOpenBLASThreads(ctx.threadCount)
                defer { ctx.blas.setOpenBLASThreads(1) }
                let ap = a.withUnsafeBufferPointer(as: Float.self) { $0.baseAddress! }
                let bp = b.withUnsafeBufferPointer(as: Float.self) { $0.baseAddress! }
                let cp = c.withUnsafeMutableBufferPointer(as: Float.self) { $0.baseAddress! }
                t = withExtendedLifetime((a, b)) {
                    best(reps) {
                        ctx.blas.sgemm(transA: false, transB: true, m: n, n: n, k: n, alpha: 1, a: ap, lda: n, b: bp, ldb: n, beta: 0, c: cp, ldc: n)
                    }
                }
                print("mode=openblas-own-threads openblas_threads=\(ctx.threadCount)")
            } else {
                // The GEMM itself, into a preallocated output (as the OpenBLAS figure).
                let ap = a.withUnsafeBufferPointer(as: Float.self) { $0.baseAddress! }
                let cp = c.withUnsafeMutableBufferPointer(as: Float.self) { $0.baseAddress! }
                let bop = GEMMOperand(pointer: b.withUnsafeBytes { $0.baseAddress! }, dtype: b.dtype, transposed: true, ld: n)
                t = withExtendedLifetime((a, b)) {
                    best(reps) {
                        if ctx.precision == .bf16 {
                            ctx.gemmBF16(m: n, n: n, k: n, a: ap, lda: n, b: bop, c: cp, ldc: n)
                        } else {
                            ctx.gemm(m: n, n: n, k: n, a: ap, lda: n, b: bop, c: cp, ldc: n)
                        }
                    }
                }
                // The same through `linear`, which also allocates its output.
                var y = Tensor(zeros: [1])
                let tl = best(reps) { y = ctx.linear(a, weight: b) }
                withExtendedLifetime(y) {}
                print(String(format: "linear n=%d best=%.4fs gflops=%.1f (includes allocating the output)", n, tl, flops / tl / 1e9))
                print("mode=tensorkit-split weight=\(b.dtype.rawValue) compute=\(ctx.precision.rawValue)")
            }
            withExtendedLifetime(c) {}
            print(String(format: "gemm n=%d best=%.4fs gflops=%.1f", n, t, flops / t / 1e9))
        case "attention":
            let s = arg(1, 4096), h = arg(2, 30), d = arg(3, 128)
            let q = filled([1, s, h, d], seed: 3), k = filled([1, s, h, d], seed: 4), v = filled([1, s, h, d], seed: 5)
            var y = Tensor(zeros: [1])
            let t = best(2) { y = ctx.scaledDotProductAttention(query: q, key: k, value: v) }
            withExtendedLifetime(y) {}
            let sd = Double(s), hd = Double(h), dd = Double(d)
            let flops: Double = 4.0 * sd * sd * hd * dd
            let scoresMiB: Double = sd * sd * hd * 4 / 1048576
            let wsMiB: Double = Double(ctx.attentionWorkspaceBytes(valueDim: d)) / 1048576
            let gflops: Double = flops / t / 1e9
            print(String(format: "attention tokens=%d heads=%d dim=%d best=%.3fs gflops=%.1f workspace=%.2fMiB (full score matrix would be %.0fMiB)",
                         s, h, d, t, gflops, wsMiB, scoresMiB))
        case "conv":
            let hh = arg(1, 256), ww = arg(2, 256), cin = arg(3, 512), cout = arg(4, 512)
            let x = filled([1, cin, hh, ww], seed: 6), w = filled([cout, cin, 3, 3], seed: 7).converted(to: .bfloat16, context: ctx)
            var y = Tensor(zeros: [1])
            let t = best(2) { y = ctx.conv2d(x, weight: w, bias: nil, stride: 1, padding: .symmetric(1)) }
            withExtendedLifetime(y) {}
            let pixels = Double(hh * ww)
            let flops: Double = 2.0 * pixels * Double(cin * 9) * Double(cout)
            let ws = ctx.conv2dWorkspaceBytes(channels: cin, outChannels: cout, kh: 3, kw: 3, stride: 1, outWidth: ww, outHeight: hh, weightDType: .bfloat16)
            let wsMiB: Double = Double(ws) / 1048576
            let wholeMiB: Double = pixels * Double(cin * 9 * 4) / 1048576
            let gflops: Double = flops / t / 1e9
            print(String(format: "conv %dx%d %d->%d best=%.3fs gflops=%.1f workspace=%.1fMiB (whole-image im2col %.0fMiB)",
                         hh, ww, cin, cout, t, gflops, wsMiB, wholeMiB))
        case "zimage-block":
            let nLayers = arg(1, 1), imgTokens = arg(2, 1024), capTokens = arg(3, 128)
            var config = ZImageTransformerConfig()
            config.nLayers = nLayers
            config.nRefinerLayers = 0
            let weights = RandomWeights(dtype: .bfloat16)
            // Build until the model has asked for every tensor; each missing one is created with
            // the shape the model expects.
            let recorder = WeightLoader(source: weights, component: "transformer")
            while true {
                do throws(ModelError) {
                    _ = try ZImageTransformer2DModel(config: config, loader: recorder)
                    break
                } catch {
                    guard case let .missingTensor(_, name, shape) = error else { print("\(error)"); exit(1) }
                    weights.make(name, shape: shape, context: ctx)
                }
            }
            let model = try ZImageTransformer2DModel(config: config, loader: WeightLoader(source: weights, component: "transformer"))
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
        case "zimage-ops":
            // The primitives of one full-width Z-Image block at `tokens` rows, each timed alone
            // (best of 3), to see where a block's time goes on this machine.
            let sTok = arg(1, 1152), dim = 3840, hidden = 10240, heads = 30
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
        case "klein-ops":
            // The primitives of FLUX.2-klein-4B's blocks at 512² (1024 image + 512 text tokens).
            let si = arg(1, 1024), st = arg(2, 512), s = si + st, d = 3072, hidden = 9216, heads = 24
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
        case "klein-step":
            // FLUX.2-klein-4B's transformer (real width, random bf16 weights) at `img` + `txt`
            // tokens with `double` + `single` blocks, and the same without blocks (embedders,
            // modulations, final layer), to split a step's time.
            let si = arg(1, 1024), st = arg(2, 512), nDouble = arg(3, 1), nSingle = arg(4, 2)
            func model(_ d: Int, _ s: Int) throws -> (Flux2Transformer2DModel, RandomWeights) {
                var config = Flux2TransformerConfig()
                config.numLayers = d
                config.numSingleLayers = s
                config.numAttentionHeads = 24
                config.jointAttentionDim = 7680
                config.guidanceEmbeds = false
                let weights = RandomWeights(dtype: .bfloat16)
                while true {
                    do throws(ModelError) {
                        return (try Flux2Transformer2DModel(config: config, loader: WeightLoader(source: weights, component: "transformer")), weights)
                    } catch {
                        guard case let .missingTensor(_, name, shape) = error else { print("\(error)"); exit(1) }
                        weights.make(name, shape: shape, context: ctx)
                    }
                }
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
        case "klein-single-trace":
            // One FLUX.2-klein-4B single block's operations in the model's order (public TensorKit
            // calls), each timed where it runs, to find time that the isolated rows do not show.
            let sTok = arg(1, 1536), d = 3072, hidden = 9216, heads = 24
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
        case "qlinear":
            // Quantized linear (-q BITS) next to the fp32 linear with a bf16 weight, at a
            // transformer's shape: M tokens, K -> N; every integer path this CPU has.
            let m = arg(1, 1152), k = arg(2, 3840), n = arg(3, 3840), bits = arg(4, 8)
            let x = filled([m, k], seed: 41), w = filled([n, k], seed: 42).converted(to: .bfloat16, context: ctx)
            let q = try QuantizedMatrix.quantize(w, bits: bits, context: ctx)
            var y = Tensor(zeros: [1])
            let flops = 2.0 * Double(m) * Double(k) * Double(n)
            let tf = best(3) { y = ctx.linear(x, weight: w) }
            print(String(format: "linear bf16 weight (%@) m=%d k=%d n=%d best=%.4fs gflops=%.1f", ctx.precision.rawValue, m, k, n, tf, flops / tf / 1e9))
            let only = args.count > 5 ? args[5] : nil  // e.g. avx512vnni: that path alone
            for path in QuantKernelPath.allCases where path.isSupported && (only == nil || "\(path)" == only) {
                let t = best(3) { y = ctx.quantizedLinear(x, weight: q, path: path) }
                print(String(format: "quantized %d-bit %@ best=%.4fs gops=%.1f ratio to the linear %.2f", bits, "\(path)", t, flops / t / 1e9, t / tf))
            }
            withExtendedLifetime(y) {}
        case "tokenizer":
            guard args.count >= 3 else { print("usage: mflux-bench tokenizer FOLDER TEXTFILE"); exit(2) }
            let t0 = now()
            let tok = try Tokenizer(folder: args[1])
            let load = now() - t0
            let lines = try String(contentsOfFile: args[2], encoding: .utf8).split(separator: "\n").map(String.init)
            let bytes = lines.reduce(0) { $0 + $1.utf8.count }
            var count = 0
            let t = best(3) { count = lines.reduce(0) { $0 + tok.encode($1).count } }
            print(String(format: "tokenizer load=%.3fs encode=%.4fs texts=%d bytes=%d tokens=%d (%.2f MB/s)",
                         load, t, lines.count, bytes, count, Double(bytes) / t / 1e6))
        default:
            print("unknown mode \(mode)")
            exit(2)
        }
    }
}
