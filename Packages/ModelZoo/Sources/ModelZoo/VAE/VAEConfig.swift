import Foundation

/// Which diffusers VAE class a config describes; it decides the defaults of absent fields.
public enum VAEVariant: String, Sendable {
    /// `AutoencoderKL` with the FLUX.1 VAE configuration (Z-Image): 16 latent channels, scaling
    /// 0.3611 / shift 0.1159, no quant convs.
    case flux1 = "AutoencoderKL"
    /// `AutoencoderKLFlux2` (FLUX.2): 32 latent channels, quant convs, BatchNorm statistics over
    /// the 2x2-patchified latents.
    case flux2 = "AutoencoderKLFlux2"
}

/// A VAE's `config.json`: every size from the file, the real model's values as defaults.
public struct VAEConfig: Sendable, Equatable {
    /// Which class.
    public var variant: VAEVariant
    /// Image channels in and out (3).
    public var inChannels = 3, outChannels = 3
    /// Channels of each encoder level (decoder: reversed).
    public var blockOutChannels = [128, 256, 512, 512]
    /// Resnets per encoder level (decoder: one more).
    public var layersPerBlock = 2
    /// Latent channels.
    public var latentChannels: Int
    /// GroupNorm groups.
    public var normNumGroups = 32
    /// Attention in the mid blocks.
    public var midBlockAddAttention = true
    /// 1x1 conv after the encoder / before the decoder.
    public var useQuantConv: Bool, usePostQuantConv: Bool
    /// Latent scaling and shift (FLUX.1 VAE: `z = latents / scaling + shift` before decoding).
    public var scalingFactor: Double?, shiftFactor: Double?
    /// FLUX.2: BatchNorm epsilon and patch size of the latent statistics.
    public var batchNormEps = 1e-4
    public var patchSize = [2, 2]

    /// The defaults of `variant` (the published models' values).
    public init(variant: VAEVariant) {
        self.variant = variant
        switch variant {
        case .flux1:
            latentChannels = 16; useQuantConv = false; usePostQuantConv = false
            scalingFactor = 0.3611; shiftFactor = 0.1159
        case .flux2:
            latentChannels = 32; useQuantConv = true; usePostQuantConv = true
            scalingFactor = nil; shiftFactor = nil
        }
    }

    /// Reads `config.json` at `path` (its `_class_name` must match `variant` when present),
    /// filling absent fields with the variant's defaults, and validates it.
    public static func load(path: String, variant: VAEVariant) throws(ModelError) -> VAEConfig {
        let raw = try ConfigFile.load(RawVAEConfig.self, path: path)
        if let cls = raw.className, cls != variant.rawValue {
            throw .invalidConfig("\(path): _class_name is \(cls), expected \(variant.rawValue)")
        }
        var c = VAEConfig(variant: variant)
        c.inChannels = raw.inChannels ?? c.inChannels
        c.outChannels = raw.outChannels ?? c.outChannels
        c.blockOutChannels = raw.blockOutChannels ?? c.blockOutChannels
        c.layersPerBlock = raw.layersPerBlock ?? c.layersPerBlock
        c.latentChannels = raw.latentChannels ?? c.latentChannels
        c.normNumGroups = raw.normNumGroups ?? c.normNumGroups
        c.midBlockAddAttention = raw.midBlockAddAttention ?? c.midBlockAddAttention
        c.useQuantConv = raw.useQuantConv ?? c.useQuantConv
        c.usePostQuantConv = raw.usePostQuantConv ?? c.usePostQuantConv
        if raw.hasScaling { c.scalingFactor = raw.scalingFactor }
        if raw.hasShift { c.shiftFactor = raw.shiftFactor }
        c.batchNormEps = raw.batchNormEps ?? c.batchNormEps
        c.patchSize = raw.patchSize ?? c.patchSize
        let n = c.blockOutChannels.count
        for (key, types, expected) in [("down_block_types", raw.downBlockTypes, "DownEncoderBlock2D"), ("up_block_types", raw.upBlockTypes, "UpDecoderBlock2D")] {
            if let types, types != Array(repeating: expected, count: n) {
                throw .invalidConfig("\(path): \(key) must be \(n) x \(expected), got \(types)")
            }
        }
        if let act = raw.actFn, act != "silu" { throw .invalidConfig("\(path): act_fn \(act) is not supported (silu only)") }
        if let dec = raw.decoderBlockOutChannels, dec != c.blockOutChannels {
            throw .invalidConfig("\(path): decoder_block_out_channels different from block_out_channels is not supported")
        }
        try c.validate(path: path)
        return c
    }

    func validate(path: String) throws(ModelError) {
        guard blockOutChannels.count <= 16, (blockOutChannels + [layersPerBlock, latentChannels, inChannels, outChannels, normNumGroups] + patchSize)
                .allSatisfy({ $0 <= 1 << 16 }) else {
            throw .invalidConfig("\(path): a size is out of range (channels up to 65536, at most 16 levels)")
        }
        guard normNumGroups > 0, !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 && $0 % normNumGroups == 0 }) else {
            throw .invalidConfig("\(path): block_out_channels \(blockOutChannels) must be positive multiples of norm_num_groups \(normNumGroups)")
        }
        guard layersPerBlock >= 1, latentChannels >= 1, inChannels >= 1, outChannels >= 1 else {
            throw .invalidConfig("\(path): sizes must be positive")
        }
        if variant == .flux1, scalingFactor == nil { throw .invalidConfig("\(path): scaling_factor is required") }
        if variant == .flux2, patchSize != [2, 2] { throw .invalidConfig("\(path): patch_size \(patchSize) is not supported (2x2 only)") }
    }

    /// Spatial downsampling factor between image and latents (`2^(levels-1)`, 8).
    public var scaleFactor: Int { 1 << (blockOutChannels.count - 1) }
}

/// The raw JSON, every field optional.
struct RawVAEConfig: Decodable {
    var className: String?
    var inChannels, outChannels, layersPerBlock, latentChannels, normNumGroups: Int?
    var blockOutChannels, decoderBlockOutChannels, patchSize: [Int]?
    var downBlockTypes, upBlockTypes: [String]?
    var actFn: String?
    var midBlockAddAttention, useQuantConv, usePostQuantConv: Bool?
    var scalingFactor, shiftFactor, batchNormEps: Double?
    var hasScaling = false, hasShift = false

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", inChannels = "in_channels", outChannels = "out_channels"
        case layersPerBlock = "layers_per_block", latentChannels = "latent_channels", normNumGroups = "norm_num_groups"
        case blockOutChannels = "block_out_channels", decoderBlockOutChannels = "decoder_block_out_channels", patchSize = "patch_size"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types", actFn = "act_fn"
        case midBlockAddAttention = "mid_block_add_attention", useQuantConv = "use_quant_conv", usePostQuantConv = "use_post_quant_conv"
        case scalingFactor = "scaling_factor", shiftFactor = "shift_factor", batchNormEps = "batch_norm_eps"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        className = try c.decodeIfPresent(String.self, forKey: .className)
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels)
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels)
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock)
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels)
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups)
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels)
        decoderBlockOutChannels = try c.decodeIfPresent([Int].self, forKey: .decoderBlockOutChannels)
        patchSize = try c.decodeIfPresent([Int].self, forKey: .patchSize)
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes)
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes)
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn)
        midBlockAddAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention)
        useQuantConv = try c.decodeIfPresent(Bool.self, forKey: .useQuantConv)
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv)
        hasScaling = c.contains(.scalingFactor)
        hasShift = c.contains(.shiftFactor)
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor)
        shiftFactor = try c.decodeIfPresent(Double.self, forKey: .shiftFactor)
        batchNormEps = try c.decodeIfPresent(Double.self, forKey: .batchNormEps)
    }
}
