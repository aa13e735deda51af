import TensorKit

/// Progress on standard error: stage events ("loaded transformer in 0.42 s") and, per step,
/// `step i/n`, seconds per step and the estimated time left. On a terminal the step line is a
/// live bar redrawn in place; otherwise (a log, a pipe) each step is one plain line.
public final class ProgressReporter: BeforeLoopCallback, InLoopCallback, AfterLoopCallback, InterruptCallback, StageCallback {
    private let output: TextOutput
    private var clock = Stopwatch()
    private var live = false

    /// Reports to `output` (default: standard error).
    public init(output: TextOutput = FileDescriptorOutput()) { self.output = output }

    public func beforeLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) {
        clock.restart()
        if info.imageCount > 1 { output.write("image \(info.imageIndex + 1)/\(info.imageCount) (seed \(info.seed))\n") }
    }

    public func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) {
        let perStep = clock.seconds / Double(step.number)
        let eta = perStep * Double(step.total - step.number)
        let figures = "\(formatSeconds(perStep))/step, ETA \(formatSeconds(eta))"
        if output.isTerminal {
            let width = 24
            let filled = step.total > 0 ? width * step.number / step.total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            output.write("\r\u{1B}[2Kstep \(step.number)/\(step.total) [\(bar)] \(figures)")
            live = true
        } else {
            output.write("step \(step.number)/\(step.total)  \(figures)\n")
        }
    }

    public func afterLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) {
        endLine()
        output.write("denoised \(info.steps) step\(info.steps == 1 ? "" : "s") in \(formatSeconds(clock.seconds))\n")
    }

    public func interrupted(_ info: LoopInfo, lastStep: StepInfo?, latents: Tensor, manager: CallbackManager) {
        endLine()
    }

    public func stage(_ event: StageEvent, manager: CallbackManager) {
        endLine()
        switch event {
        case let .loaded(component, seconds): output.write("loaded \(component) in \(formatSeconds(seconds))\n")
        case let .released(component): output.write("released \(component)\n")
        case let .promptEncoded(seconds): output.write("encoded the prompt in \(formatSeconds(seconds))\n")
        case let .decoded(_, seconds): output.write("decoded the image in \(formatSeconds(seconds))\n")
        case .wrote: break
        }
    }

    private func endLine() {
        if live { output.write("\n"); live = false }
    }
}

