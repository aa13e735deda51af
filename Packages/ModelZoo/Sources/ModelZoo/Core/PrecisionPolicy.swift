import SafetensorsIO
import TensorKit

extension ModelRegistry {
    /// Width (smaller dimension) of the transformer's largest 2-D weight from which bf16 compute is
    /// the default (the published models: 3072-4096; small test and demo checkpoints stay fp32).
    public static let bf16DefaultMinimumWidth = 1024

    /// The compute precision a model in `path` runs in when none is asked for: ``ComputePrecision/bf16``
    /// where this CPU computes bf16 natively (AVX512-BF16) and the transformer is stored in bf16
    /// (most of its matrix bytes) at a published model's width (its largest 2-D weight at least
    /// ``bf16DefaultMinimumWidth`` wide both ways): as diffusers runs these checkpoints with
    /// `torch_dtype=torch.bfloat16` and mflux in bf16, measured 1.7-2x faster than fp32 here with
    /// images within the tolerance documented in the model READMEs. ``ComputePrecision/fp32``
    /// otherwise (other CPUs, float32 checkpoints, small checkpoints, which then match diffusers'
    /// float32 pixels), and when the transformer cannot be read. A folder saved quantized by mflux
    /// counts its packed codes at their logical width and its floats for the dtype.
    public static func defaultPrecision(path: String) -> ComputePrecision {
        guard ComputePrecision.bf16.isSupported,
              let source = try? Checkpoint.open(path + "/transformer") else { return .fp32 }
        // A folder saved quantized by mflux: its packed codes (uint32) count at their logical width
        // and its floats (scales, biases, norms) decide the dtype, as for `-q` on the fly.
        let bits = MfluxSavedFolder(path: path)?.quantizationLevel
        var bf16Bytes = 0, otherBytes = 0, largest = 0, width = 0
        for name in source.tensorNames {
            guard let info = source.info(name), info.shape.count == 2 else { continue }
            var shape = info.shape
            switch info.dtype {
            case .bfloat16: bf16Bytes += info.dataOffsets.count
            case .float32, .float16, .float64: otherBytes += info.dataOffsets.count
            case .uint32:
                guard let bits, bits > 0 else { continue }
                shape[1] = shape[1] * 32 / bits
            default: continue
            }
            if shape[0] * shape[1] > largest { largest = shape[0] * shape[1]; width = shape.min()! }
        }
        return bf16Bytes > otherBytes && width >= bf16DefaultMinimumWidth ? .bf16 : .fp32
    }
}
