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
///   mflux-bench vae-ops [size]                  each operation of the VAE decoder at SIZE², timed alone
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

    /// Integer argument `i` of the command line (after the mode), or `d`.
    static func arg(_ args: [String], _ i: Int, _ d: Int) -> Int { args.count > i ? Int(args[i]) ?? d : d }

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
        func arg(_ i: Int, _ d: Int) -> Int { Bench.arg(args, i, d) }
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
        case "vae-ops":
            try vaeOps(args, ctx)
        case "zimage-block":
            try zimageBlock(args, ctx)
        case "zimage-ops":
            try zimageOps(args, ctx)
        case "klein-ops":
            try kleinOps(args, ctx)
        case "klein-step":
            try kleinStep(args, ctx)
        case "klein-single-trace":
            try kleinSingleTrace(args, ctx)
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
