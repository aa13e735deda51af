import TensorKit
import XCTest

final class ConvTests: XCTestCase {
    func testConv2dCasesMatchNumpy() throws {
        for name in ["conv3x3", "conv3x3_stride2_asym", "conv3x3_stride2_sym_odd", "conv1x1", "conv1x1_stride2"] {
            let g = Fixtures.group(name)
            let pad = g.intLists["pad"]!
            let padding = Padding2d(top: pad[0], bottom: pad[1], left: pad[2], right: pad[3])
            for threads in [1, 2] {
                let ctx = try ComputeContext(threadCount: threads)
                let y = ctx.conv2d(Fixtures.tensor(g, "x"), weight: Fixtures.tensor(g, "w"), bias: g.arrays["bias"],
                                   stride: Int(Fixtures.double(g, "stride")), padding: padding)
                assertClose(y, Fixtures.tensor(g, "y"), rtol: 1e-5, atol: 1e-5, "\(name), \(threads) threads")
                // bf16 weight goes through the same path.
                let wb = Fixtures.tensor(g, "w").converted(to: .bfloat16, context: ctx)
                let yb = ctx.conv2d(Fixtures.tensor(g, "x"), weight: wb, bias: g.arrays["bias"], stride: Int(Fixtures.double(g, "stride")), padding: padding)
                let yb32 = ctx.conv2d(Fixtures.tensor(g, "x"), weight: wb.toFloat32(context: ctx), bias: g.arrays["bias"], stride: Int(Fixtures.double(g, "stride")), padding: padding)
                XCTAssertEqual(yb.floats(context: ctx), yb32.floats(context: ctx))
            }
        }
    }

    func testUpsample() throws {
        let g = Fixtures.group("upsample")
        let ctx = try ComputeContext(threadCount: 2)
        XCTAssertEqual(ctx.upsampleNearest2x(Fixtures.tensor(g, "x")).floats(context: ctx), Fixtures.tensor(g, "y").floats(context: ctx))
    }

    /// The im2col workspace depends on the width and channels, not on the image height: the
    /// VAE's 3x3 256->128 convolution at 1024x1024 would need ~9.7 GB as a whole-image im2col. The
    /// bytes actually taken from the pool are the same for an image 3 and 6 bands tall, and
    /// within ``ComputeContext/conv2dWorkspaceBytes``.
    func testWorkspaceIsBoundedByBandNotImage() throws {
        let c = 64, w = 96
        let rows = ComputeContext.conv2dBandRows(channels: c, kh: 3, kw: 3, outWidth: w, outHeight: 4096)
        var peaks: [Int] = [], bounds: [Int] = []
        for h in [4 * rows, 8 * rows] {  // band counts the 2 workers share evenly: no rebalancing
            let ctx = try ComputeContext(threadCount: 2)
            let x = Tensor(shape: [1, c, h, w], floats: (0..<(c * h * w)).map { Float(($0 * 7919) % 1009) / 504 - 1 })
            let wt = Tensor(shape: [8, c, 3, 3], floats: (0..<(8 * c * 9)).map { Float(($0 * 31) % 97) / 97 - 0.5 })
            _ = ctx.conv2d(x, weight: wt, bias: nil, stride: 1, padding: .symmetric(1))
            peaks.append(ctx.workspaces.peakBytesInUse)
            bounds.append(ctx.conv2dWorkspaceBytes(channels: c, outChannels: 8, kh: 3, kw: 3, stride: 1, outWidth: w, outHeight: h, weightDType: .float32))
        }
        XCTAssertGreaterThan(peaks[0], 0, "im2col bands come from the pool")
        XCTAssertEqual(peaks[1], peaks[0], "twice the height, the same workspace")
        XCTAssertLessThanOrEqual(peaks[1], bounds[1])
        let ctx = try ComputeContext(threadCount: 2)
        let small = ctx.conv2dWorkspaceBytes(channels: 256, outChannels: 128, kh: 3, kw: 3, stride: 1, outWidth: 1024, outHeight: 1024, weightDType: .float32)
        XCTAssertLessThan(small, 256 * 9 * 1024 * 1024 * 4 / 100)
    }

    /// A band boundary inside the image must not change results: compare many-band and
    /// single-band evaluations of an image taller than one band.
    func testManyBandsMatchDirectComputation() throws {
        let ctx = try ComputeContext(threadCount: 2)
        let c = 64, h = 160, w = 160
        let rows = ctx.conv2dBalancedRows(channels: c, kh: 3, kw: 3, outWidth: w, outHeight: h, images: 1)
        XCTAssertLessThan(rows, h, "the test image must span several bands")
        let x = Tensor(shape: [1, c, h, w], floats: (0..<(c * h * w)).map { Float(($0 * 7919) % 1009) / 504 - 1 })
        let wt = Tensor(shape: [2, c, 3, 3], floats: (0..<(2 * c * 9)).map { Float(($0 * 31) % 97) / 97 - 0.5 })
        let y = ctx.conv2d(x, weight: wt, bias: nil, stride: 1, padding: .symmetric(1)).floats(context: ctx)
        let xs = x.floats(context: ctx), ws = wt.floats(context: ctx)
        // Spot-check rows at and around band boundaries against a direct sum in Double.
        for oy in [0, rows - 1, rows, rows + 1, h - 1] {
            for ox in [0, 1, w / 2, w - 1] {
                for o in 0..<2 {
                    var acc = 0.0
                    for ci in 0..<c { for i in 0..<3 { for j in 0..<3 {
                        let iy = oy + i - 1, ix = ox + j - 1
                        if iy >= 0 && iy < h && ix >= 0 && ix < w {
                            acc += Double(xs[(ci * h + iy) * w + ix]) * Double(ws[((o * c + ci) * 3 + i) * 3 + j])
                        }
                    } } }
                    XCTAssertEqual(Double(y[(o * h + oy) * w + ox]), acc, accuracy: 1e-4, "o \(o) y \(oy) x \(ox)")
                }
            }
        }
    }
    /// A convolution reading its input through nearest 2x upsampling gives exactly the values of
    /// upsampling first, on the fp32 and (where the CPU has it) the bf16 path; 1x1 and strided
    /// kernels take the two-step route.
    func testUpsampledConvolutionEqualsUpsampleThenConvolve() throws {
        var contexts = [try ComputeContext(threadCount: 2)]
        if ComputePrecision.bf16.isSupported { contexts.append(try ComputeContext(threadCount: 2, precision: .bf16)) }
        let shapes: [(n: Int, c: Int, o: Int, h: Int, w: Int, k: Int, stride: Int, pad: Padding2d)] = [
            (1, 5, 4, 7, 9, 3, 1, .symmetric(1)), (2, 16, 8, 12, 20, 3, 1, .symmetric(1)),
            (1, 3, 6, 5, 11, 3, 1, Padding2d(top: 0, bottom: 1, left: 0, right: 1)), (1, 4, 5, 6, 6, 1, 1, .symmetric(0)),
            (1, 4, 5, 6, 10, 3, 2, .symmetric(1))]
        for ctx in contexts {
            for s in shapes {
                let count = s.n * s.c * s.h * s.w
                let x = Tensor(shape: [s.n, s.c, s.h, s.w], floats: (0..<count).map { Float(($0 * 7919) % 1009) / 504 - 1 })
                let wt = Tensor(shape: [s.o, s.c, s.k, s.k], floats: (0..<(s.o * s.c * s.k * s.k)).map { Float(($0 * 31) % 97) / 97 - 0.5 })
                let bias = Tensor(shape: [s.o], floats: (0..<s.o).map { Float($0) / 10 })
                let fused = ctx.conv2d(x, weight: wt, bias: bias, stride: s.stride, padding: s.pad, upsample2x: true)
                let twoSteps = ctx.conv2d(ctx.upsampleNearest2x(x), weight: wt, bias: bias, stride: s.stride, padding: s.pad)
                XCTAssertEqual(fused.shape, twoSteps.shape)
                XCTAssertEqual(fused.floats(context: ctx), twoSteps.floats(context: ctx), "\(s) \(ctx.precision)")
            }
        }
    }
}
