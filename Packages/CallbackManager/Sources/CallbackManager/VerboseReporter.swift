import TensorKit

/// `--verbose`: the time of every step and the process's peak resident memory after each step
/// and at the end of each loop.
public final class VerboseReporter: BeforeLoopCallback, InLoopCallback, AfterLoopCallback {
    private let output: TextOutput
    private var stepClock = Stopwatch(), loopClock = Stopwatch()
    private var stepTimes: [Double] = []

    /// Reports to `output` (default: standard error).
    public init(output: TextOutput = FileDescriptorOutput()) { self.output = output }

    public func beforeLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) {
        stepTimes = []
        stepClock.restart()
        loopClock.restart()
        output.write("loop: seed \(info.seed), \(info.width)x\(info.height), \(info.steps) steps, latents \(latents.shape)\n")
    }

    public func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) {
        let t = stepClock.seconds
        stepTimes.append(t)
        output.write("step \(step.number)/\(step.total): \(formatSeconds(t)) (sigma \(step.sigma) -> \(step.nextSigma)), peak RSS \(PeakMemory.format(PeakMemory.bytes))\n")
        stepClock.restart()
    }

    public func afterLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) {
        let total = loopClock.seconds
        let mean = stepTimes.isEmpty ? 0 : stepTimes.reduce(0, +) / Double(stepTimes.count)
        output.write("loop: \(stepTimes.count) steps in \(String(format2: total, unit: "s")), mean \(String(format2: mean, unit: "s"))/step, peak RSS \(PeakMemory.format(PeakMemory.bytes))\n")
    }
}
