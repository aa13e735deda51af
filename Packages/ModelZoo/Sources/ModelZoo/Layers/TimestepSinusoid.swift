#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorKit

/// The sinusoidal timestep embedding of the diffusion transformers, in float32 as PyTorch
/// computes it: `freqs[i] = exp(-ln(max_period) · i / half)`, `args = t · freqs`,
/// `[cos(args), sin(args)]` (cos first).
public enum TimestepSinusoid {
    /// `[timesteps.count, channels]` embedding (`channels` even).
    public static func embed(_ timesteps: [Float], channels: Int, maxPeriod: Double = 10000) -> Tensor {
        precondition(channels % 2 == 0, "odd sinusoid widths are not used by these models")
        let half = channels / 2
        let c = Float(-log(maxPeriod))  // the Python float meets a float32 tensor: cast first
        let freqs: [Float] = (0..<half).map { i in expf(c * Float(i) / Float(half)) }
        var values = [Float](repeating: 0, count: timesteps.count * channels)
        for (b, t) in timesteps.enumerated() {
            for i in 0..<half {
                let a = t * freqs[i]
                values[b * channels + i] = cosf(a)
                values[b * channels + half + i] = sinf(a)
            }
        }
        return Tensor(shape: [timesteps.count, channels], floats: values)
    }
}
