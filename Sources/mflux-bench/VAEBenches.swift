import Foundation
import TensorKit

/// The VAE decoder's operations (the diffusers `Decoder` of Z-Image-Turbo and FLUX.2: channels
/// 512, 512, 256, 128 from the latent resolution up; 3 resnets per up block, 2 in the mid block and
/// one attention) at an output size, each timed alone with its count per decode, so that the
/// scaling of each over cores can be compared.
extension Bench {
    /// `mflux-bench vae-ops [size]` (see the usage in Bench.swift).
    static func vaeOps(_ args: [String], _ ctx: ComputeContext) throws {
        let size = arg(args, 1, 1024), s8 = size / 8
        var total = 0.0
        var y = Tensor(zeros: [1])
        func row(_ name: String, _ count: Int, _ body: () -> Void) {
            let t = best(2, body)
            total += t * Double(count)
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0)
                  + String(format: " x%-2d %8.2f ms  (%.2f s per decode)", count, t * 1e3, t * Double(count)))
        }
        // (channels, side, 3x3 convs, resnets) per resolution: mid block + up block 0 at size/8, then
        // up blocks 1-3 (512, 256, 128 channels), each with the upsampling conv that feeds it
        // (counted at the stage's own width; the first conv of a narrowing resnet likewise).
        let stages = [(512, s8, 2 * 2 + 3 * 2, 5), (512, 2 * s8, 1 + 3 * 2, 3), (256, 4 * s8, 1 + 3 * 2, 3),
                      (128, 8 * s8, 1 + 3 * 2, 3)]
        for (c, side, convs, resnets) in stages {
            let x = filled([1, c, side, side], seed: UInt64(c + side))
            let w = filled([c, c, 3, 3], seed: 7).converted(to: .bfloat16, context: ctx)
            let gw = filled([c], seed: 8), gb = filled([c], seed: 9)
            let tag = "\(c)ch \(side)x\(side)"
            row("conv3x3 \(tag)", convs) { y = ctx.conv2d(x, weight: w, bias: gb, stride: 1, padding: .symmetric(1)) }
            row("groupNorm \(tag)", 2 * resnets) { y = ctx.groupNorm(x, groups: 32, weight: gw, bias: gb, eps: 1e-6) }
            row("silu \(tag)", 2 * resnets) { y = ctx.silu(x) }
            row("add \(tag)", resnets) { y = ctx.add(x, x) }
            if side < size { row("upsample2x \(tag)", 1) { y = ctx.upsampleNearest2x(x) } }
        }
        let q = filled([1, s8 * s8, 1, 512], seed: 10)
        row("attention 1x512 \(s8 * s8) tokens", 1) { y = ctx.scaledDotProductAttention(query: q, key: q, value: q) }
        withExtendedLifetime(y) {}
        print(String(format: "sum %.2f s (threads %d, precision %@)", total, ctx.threadCount, ctx.precision.rawValue))
    }
}
