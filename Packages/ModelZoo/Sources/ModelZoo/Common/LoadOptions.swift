import TensorKit

/// How weights are quantized while a model loads (`mflux generate -q BITS`): MLX's affine group
/// quantization (mflux's format), applied as mflux applies it to every linear and embedding layer
/// of the transformer, the text encoder and the VAE's attention whose input width is a multiple
/// of the group size (all of them in the published models; MLX would refuse the others, here they
/// keep their dtype); convolutions and norms keep their stored dtype. Each layer is quantized from
/// its memory-mapped weight as it loads (no second copy of the model). Layers a folder stores
/// quantized (saved by mflux) are used as stored.
public struct WeightQuantization: Sendable {
    /// 3, 4, 5, 6 or 8.
    public let bits: Int
    /// Values per group (MLX's default 64).
    public let groupSize: Int
    /// Where the quantization runs (its workers).
    public let context: ComputeContext

    /// Throws for widths MLX's affine mode does not have.
    public init(bits: Int, groupSize: Int = 64, context: ComputeContext) throws(ModelError) {
        guard QuantizedMatrix.supportedBits.contains(bits) else {
            throw .invalidInput("quantization must be one of \(QuantizedMatrix.supportedBits.map(String.init).joined(separator: ", ")) bits, got \(bits)")
        }
        guard groupSize > 0, groupSize % 32 == 0 else { throw .invalidInput("quantization group size must be a positive multiple of 32, got \(groupSize)") }
        self.bits = bits
        self.groupSize = groupSize
        self.context = context
    }
}

/// A LoRA file and the weight it is applied with (`--lora-paths`, `--lora-scales`).
public struct LoRAWeights: Sendable, Equatable {
    /// The `.safetensors` file.
    public let path: String
    /// Its weight (diffusers' `set_adapters` weight, mflux's scale).
    public let scale: Float

    /// `path` at `scale`.
    public init(path: String, scale: Float = 1) {
        self.path = path
        self.scale = scale
    }
}

/// Options for loading a model's weights.
public struct LoadOptions: Sendable {
    /// Quantize linear layers as they load (nil: keep the stored dtype).
    public var quantization: WeightQuantization?
    /// LoRA files for the transformer, applied in this order.
    public var loras: [LoRAWeights]

    /// Default: weights as stored, no LoRA.
    public init(quantization: WeightQuantization? = nil, loras: [LoRAWeights] = []) {
        self.quantization = quantization
        self.loras = loras
    }
}
