import Schedulers

/// FLUX.2 [klein]'s schedule: sigmas `np.linspace(1, 1/N, N)` (float64, then float32) through the
/// scheduler's dynamic exponential shift with diffusers' empirical `mu` for the image-token count.
public enum Flux2Schedule {
    /// The shared loop over klein's schedule for `steps` steps on `imageSeqLen` image tokens.
    public static func loop(config c: FlowMatchEulerDiscreteSchedulerConfig, steps: Int, imageSeqLen: Int) throws(ModelError) -> DenoisingLoop {
        guard steps >= 1 else { throw .invalidInput("steps must be at least 1, got \(steps)") }
        var s: FlowMatchEulerDiscreteScheduler
        do throws(SchedulerError) {
            s = try FlowMatchEulerDiscreteScheduler(config: c)
            try s.setTimesteps(sigmas: FlowMatchSigmas.flux2(steps: steps), mu: FlowMatchSigmas.flux2EmpiricalMu(imageSeqLen: imageSeqLen, steps: steps))
        } catch {
            throw .invalidConfig("scheduler: \(error.description)")
        }
        return try DenoisingLoop(scheduler: s)
    }
}
