import Foundation
import ModelZoo
import ReferenceTesting
import TensorKit
import XCTest

/// The VAEs against diffusers: decoding every exported decoder input, and the encode -> decode
/// round trip of the committed test image.
final class VAETests: XCTestCase {
    let ctx = try! ComputeContext()

    func testZImageVAEDecodesEveryCase() throws {
        let zNames = try ReferenceExports.caseNames().filter { $0.hasPrefix("zimage/") }
        XCTAssertGreaterThanOrEqual(zNames.count, 4)
        for name in zNames {
            let c = try ReferenceCase(name)
            let vae = try AutoencoderKL(folder: c.checkpointPath! + "/vae", variant: .flux1)
            let out = try vae.decode(try c.tensor("vae.decode.in"), context: ctx)
            let r = assertReferenceClose(out, try c.tensor("vae.decode.out"), tolerance: 1e-4, "\(name) VAE decode")
            print("measured \(name) vae.decode: \(r?.description ?? "-")")
            // Post-processing to pixels: (x/2 + 0.5).clamp(0, 1) * 255, rounded half to even.
            let px = VAEImageProcessor.pixels(out, context: ctx)
            let m = assertImagesMatch(px.scalars(as: UInt8.self), try c.tensor("image.uint8").scalars(as: UInt8.self), "\(name) pixels")
            print("measured \(name) pixels: within 1 level \(m?.0 ?? 0), max diff \(m?.1 ?? -1)")
        }
    }

    func testRoundTrips() throws {
        let root = try ReferenceExports.root()
        for (model, variant) in [("zimage", VAEVariant.flux1), ("klein", .flux2)] {
            let vae = try AutoencoderKL(folder: "\(root)/\(model)/checkpoints/base/vae", variant: variant)
            let c = try ReferenceCase("\(model)/vae_roundtrip")
            let latent = try vae.encodeMode(try c.tensor("image.in"), context: ctx)
            let rl = assertReferenceClose(latent, try c.tensor("latent.mode"), tolerance: 1e-4, "\(model) encode (mode)")
            let back = try vae.decode(latent, context: ctx)
            let rb = assertReferenceClose(back, try c.tensor("image.out"), tolerance: 1e-4, "\(model) encode -> decode")
            print("measured \(model) round trip: latent \(rl?.description ?? "-"), image \(rb?.description ?? "-")")
        }
    }

    func testKleinVAEDecodesEveryCase() throws {
        let kNames = try ReferenceExports.caseNames().filter { $0.hasPrefix("klein/") }
        XCTAssertGreaterThanOrEqual(kNames.count, 6)
        for name in kNames {
            let c = try ReferenceCase(name)
            let vae = try AutoencoderKL(folder: c.checkpointPath! + "/vae", variant: .flux2)
            let out = try vae.decode(try c.tensor("vae.decode.in"), context: ctx)
            assertReferenceClose(out, try c.tensor("vae.decode.out"), tolerance: 1e-4, "\(name) VAE decode")
        }
    }

    func testConfigValidationAndBadInput() throws {
        let root = try ReferenceExports.root()
        XCTAssertThrowsError(try AutoencoderKL(folder: "\(root)/zimage/checkpoints/base/vae", variant: .flux2)) { e in
            XCTAssertTrue("\(e)".contains("AutoencoderKLFlux2"), "\(e)")
        }
        let vae = try AutoencoderKL(folder: "\(root)/zimage/checkpoints/base/vae", variant: .flux1)
        XCTAssertEqual(vae.config.scalingFactor, 0.3611)
        XCTAssertEqual(vae.config.scaleFactor, 8)
        XCTAssertThrowsError(try vae.decode(Tensor(zeros: [1, 3, 4, 4]), context: ctx))
        XCTAssertThrowsError(try vae.encodeMode(Tensor(zeros: [1, 3, 12, 16]), context: ctx))
    }
}

/// The tiled VAE decode against diffusers' `enable_tiling()` (tiles of 128 px over a 192x320 image)
/// and against the untiled decode (the seams' documented tolerance).
final class VAETiledDecodeTests: XCTestCase {
    let ctx = try! ComputeContext()

    func testTiledDecodeMatchesDiffusers() throws {
        let root = try ReferenceExports.root()
        var checked = 0
        for (model, variant) in [("zimage", VAEVariant.flux1), ("klein", .flux2)] {
            let c = try ReferenceCase("\(model)/vae_tiled")
            let vae = try AutoencoderKL(folder: "\(root)/\(model)/checkpoints/base/vae", variant: variant)
            let z = try c.tensor("latents")
            let tile = c.manifestValue("tile_sample_min_size")!.intValue!
            let tiled = try vae.decodeTiled(z, tileSampleSize: tile, context: ctx)
            let r = assertReferenceClose(tiled, try c.tensor("decode.tiled"), tolerance: 1e-4, "\(model) tiled decode")
            // Seams: the tiled image against the untiled one (both from diffusers, and ours).
            let untiled = try c.tensor("decode.untiled")
            let seam = Closeness(actual: tiled, expected: untiled)
            let reference = Closeness(actual: try c.tensor("decode.tiled"), expected: untiled)
            XCTAssertEqual(seam.relative, reference.relative, accuracy: 1e-4, "\(model): our seams are diffusers' seams")
            XCTAssertGreaterThan(seam.relative, 1e-3, "\(model): tiles of 128 px on this VAE do leave seams (the comparison can fail)")
            print("measured \(model) tiled decode: vs diffusers \(r?.description ?? "-"); tiled vs untiled rel \(String(format: "%.3e", seam.relative))")
            // One tile covers small latents: the untiled result.
            let small = try vae.decodeTiled(z.split(sizes: [8, z.shape[2] - 8], axis: 2)[0].split(sizes: [8, z.shape[3] - 8], axis: 3)[0],
                                            tileSampleSize: tile, context: ctx)
            XCTAssertEqual(small.shape, [1, 3, 64, 64])
            checked += 1
        }
        XCTAssertEqual(checked, 2)
        XCTAssertThrowsError(try AutoencoderKL(folder: "\(root)/zimage/checkpoints/base/vae", variant: .flux1)
            .decodeTiled(Tensor(zeros: [1, 16, 4, 4]), tileSampleSize: 4, context: ctx))
    }
}
