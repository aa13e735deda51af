#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorKit

/// diffusers' `FlowMatchEulerDiscreteScheduler` as the Z-Image and FLUX.2 pipelines use it, with
/// the reference arithmetic reproduced exactly (float32 where numpy/torch compute in float32), so
/// sigmas and timesteps match bit for bit.
///
/// `setTimesteps(sigmas:mu:)` shifts the given sigmas (static shift, or the dynamic exponential
/// or linear time shift with `mu`), appends the terminal sigma 0 and sets
/// `timesteps = 1000 · sigmas`. `step` is the Euler update `x + (σ[i+1] - σ[i]) · v` in float32
/// without fused multiply-add.
public struct FlowMatchEulerDiscreteScheduler: Sendable {
    /// The scheduler configuration.
    public let config: FlowMatchEulerDiscreteSchedulerConfig
    /// `[N + 1]` shifted sigmas, the last one 0 (empty before `setTimesteps`).
    public private(set) var sigmas: [Float] = []
    /// `[N]` timesteps, `sigmas · num_train_timesteps`.
    public private(set) var timesteps: [Float] = []

    /// A scheduler for `config` (validated).
    public init(config: FlowMatchEulerDiscreteSchedulerConfig) throws(SchedulerError) {
        try config.validate()
        self.config = config
    }

    /// Number of inference steps of the current schedule.
    public var stepCount: Int { timesteps.count }

    /// Sets the schedule from unshifted `sigmas` (`[N]`, as the pipeline passes them) and `mu`
    /// (required with dynamic shifting, ignored otherwise).
    public mutating func setTimesteps(sigmas input: [Float], mu: Double?) throws(SchedulerError) {
        guard !input.isEmpty else { throw .invalidArgument("at least one inference step is needed") }
        guard input.allSatisfy({ $0 > 0 && $0 <= 1 }) else { throw .invalidArgument("sigmas must lie in (0, 1]") }
        var shifted = [Float](repeating: 0, count: input.count)
        if config.useDynamicShifting {
            guard let mu, mu.isFinite else { throw .invalidArgument("mu must be given with dynamic shifting") }
            for (i, s) in input.enumerated() {
                // numpy float32: (1 / t - 1) ** 1.0 is exact; the Python float e^mu (or mu) is cast
                // to float32 before it meets the float32 array.
                let r = 1 / s - 1
                if config.timeShiftType == "exponential" {
                    let e = Float(exp(mu))
                    shifted[i] = e / (e + r)
                } else {
                    let m = Float(mu)
                    shifted[i] = m / (m + r)
                }
            }
        } else {
            let a = Float(config.shift), b = Float(config.shift - 1)
            for (i, s) in input.enumerated() {
                let num = a * s
                let den = 1 + b * s
                shifted[i] = num / den
            }
        }
        let scale = Float(config.numTrainTimesteps)
        timesteps = shifted.map { $0 * scale }
        sigmas = shifted + [0]
    }

    /// The Euler step of step `index`: `sample + (σ[index+1] - σ[index]) · modelOutput`
    /// (same shapes, float32, two roundings per element as PyTorch).
    public func step(modelOutput: Tensor, sample: Tensor, index: Int, context: ComputeContext) -> Tensor {
        precondition(index >= 0 && index < stepCount, "step index \(index) outside 0..<\(stepCount)")
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let dt = sigmas[index + 1] - sigmas[index]
        return context.addScaled(sample, modelOutput, scale: dt)
    }
}
