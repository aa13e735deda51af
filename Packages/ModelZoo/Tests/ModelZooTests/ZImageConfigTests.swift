import Foundation
import ModelZoo
import XCTest

/// The real Z-Image-Turbo configs (as published) decode and validate with the same code as the
/// tiny ones; configs the code cannot run are refused with a clear error.
final class ZImageConfigTests: XCTestCase {
    func write(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "zcfg-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    static let realTransformer = #"""
    {"_class_name": "ZImageTransformer2DModel", "_diffusers_version": "0.36.0.dev0", "all_f_patch_size": [1],
     "all_patch_size": [2], "axes_dims": [32, 48, 48], "axes_lens": [1536, 512, 512], "cap_feat_dim": 2560,
     "dim": 3840, "in_channels": 16, "n_heads": 30, "n_kv_heads": 30, "n_layers": 30, "n_refiner_layers": 2,
     "norm_eps": 1e-05, "qk_norm": true, "rope_theta": 256.0, "t_scale": 1000.0}
    """#

    func testRealTransformerConfig() throws {
        let c = try ZImageTransformerConfig.load(path: try write(Self.realTransformer))
        XCTAssertEqual(c.dim, 3840)
        XCTAssertEqual(c.headDim, 128)
        XCTAssertEqual(c.ffnHidden, 10240)
        XCTAssertEqual(c.adalnDim, 256)
        XCTAssertEqual(c.axesLens, [1536, 512, 512])
        // Absent fields take the published values.
        XCTAssertEqual(try ZImageTransformerConfig.load(path: try write("{}")), ZImageTransformerConfig())
    }

    func testUnsupportedTransformerConfigsAreRefused() throws {
        for (json, words) in [
            (#"{"dim": 3840, "n_heads": 30, "axes_dims": [32, 48, 40]}"#, "sum(axes_dims)"),
            (#"{"n_kv_heads": 10}"#, "n_kv_heads"),
            (#"{"siglip_feat_dim": 1152}"#, "Omni"),
            (#"{"all_patch_size": [4], "all_f_patch_size": [1]}"#, "2/1 patch"),
            (#"{"dim": 100, "n_heads": 30}"#, "multiple of n_heads"),
            (#"{"dim": "wide"}"#, "dim"),
            (#"{"_class_name": "Flux2Transformer2DModel"}"#, "ZImageTransformer2DModel"),
        ] {
            XCTAssertThrowsError(try ZImageTransformerConfig.load(path: try write(json)), json) {
                XCTAssertTrue("\($0)".contains(words), "\($0) should mention \(words)")
            }
        }
        XCTAssertThrowsError(try ZImageTransformerConfig.load(path: "/nonexistent/config.json"))
    }

    func testRealVAEConfig() throws {
        let json = #"""
        {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
         "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
         "force_upcast": true, "in_channels": 3, "latent_channels": 16, "layers_per_block": 2, "norm_num_groups": 32,
         "out_channels": 3, "sample_size": 1024, "scaling_factor": 0.3611, "shift_factor": 0.1159,
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
         "use_post_quant_conv": false, "use_quant_conv": false}
        """#
        let c = try VAEConfig.load(path: try write(json), variant: .flux1)
        XCTAssertEqual(c.blockOutChannels, [128, 256, 512, 512])
        XCTAssertEqual(c.shiftFactor, 0.1159)
        XCTAssertThrowsError(try VAEConfig.load(path: try write(#"{"block_out_channels": [100, 200], "norm_num_groups": 32}"#), variant: .flux1))
        XCTAssertThrowsError(try VAEConfig.load(path: try write(#"{"up_block_types": ["UpBlock2D"]}"#), variant: .flux1))
    }
}
