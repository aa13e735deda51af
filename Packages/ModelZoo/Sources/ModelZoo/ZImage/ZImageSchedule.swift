import Schedulers

/// Z-Image's schedule: sigmas `torch.linspace(1, 1/N, N)` through the scheduler's shift (`mu`
/// only matters with dynamic shifting).
public enum ZImageSchedule {
    /// The shared loop over Z-Image's schedule for `steps` steps on `imageSeqLen` latent tokens.
    /// `startIndex`: the first step run (image to image).
    public static func loop(config c: FlowMatchEulerDiscreteSchedulerConfig, steps: Int, imageSeqLen: Int, startIndex: Int = 0) throws(ModelError) -> DenoisingLoop {
        guard steps >= 1 else { throw .invalidInput("steps must be at least 1, got \(steps)") }
        var s: FlowMatchEulerDiscreteScheduler
        do throws(SchedulerError) {
            s = try FlowMatchEulerDiscreteScheduler(config: c)
            let mu = FlowMatchSigmas.calculateShift(imageSeqLen: imageSeqLen, baseSeqLen: c.baseImageSeqLen ?? 256,
                                                    maxSeqLen: c.maxImageSeqLen ?? 4096, baseShift: c.baseShift ?? 0.5,
                                                    maxShift: c.maxShift ?? 1.15)
            try s.setTimesteps(sigmas: FlowMatchSigmas.zImage(steps: steps), mu: mu)
        } catch {
            throw .invalidConfig("scheduler: \(error.description)")
        }
        return try DenoisingLoop(scheduler: s, startIndex: startIndex)
    }
}
