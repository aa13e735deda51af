import CallbackManager
import Schedulers
import TensorKit

/// The flow-match denoising loop every model runs: from `startIndex` (0 for text-to-image; later
/// for image-to-image) to the end of the schedule, `latents = scheduler.step(predict(latents))`
/// in float32, with the callbacks around it and a cancellation check after every step.
public struct DenoisingLoop: Sendable {
    /// The schedule (sigmas and timesteps already set).
    public let scheduler: FlowMatchEulerDiscreteScheduler
    /// The first schedule index to run.
    public let startIndex: Int

    /// A loop over `scheduler` from `startIndex` (must leave at least one step).
    public init(scheduler: FlowMatchEulerDiscreteScheduler, startIndex: Int = 0) throws(ModelError) {
        guard startIndex >= 0, startIndex < scheduler.stepCount else {
            throw .invalidInput("start index \(startIndex) is outside the \(scheduler.stepCount)-step schedule")
        }
        self.scheduler = scheduler
        self.startIndex = startIndex
    }

    /// The schedule's sigmas (`stepCount + 1` values).
    public var sigmas: [Float] { scheduler.sigmas }

    /// Runs the loop from `latents` with `predictor`; `info` describes the image to the callbacks
    /// (its sigmas and start index must be this loop's). Returns the final float32 latents.
    /// Throws ``ModelError/cancelled(stage:signal:)`` after the step during which cancellation was
    /// requested (the interrupt callbacks have run then).
    public func run(latents initial: Tensor, predictor: some NoisePredictor, info: LoopInfo,
                    callbacks: CallbackManager?, context ctx: ComputeContext) throws(ModelError) -> Tensor {
        precondition(info.sigmas == sigmas && info.startIndex == startIndex, "LoopInfo does not describe this loop")
        var latents = initial.toFloat32(context: ctx)
        try Self.callback { try callbacks?.beforeLoop(info, latents: latents) }
        var last: StepInfo?
        for i in startIndex..<scheduler.stepCount {
            let output = try predictor.predict(latents: latents, index: i, timestep: scheduler.timesteps[i],
                                               sigma: scheduler.sigmas[i], context: ctx)
            latents = scheduler.step(modelOutput: output, sample: latents, index: i, context: ctx)
            let step = StepInfo(index: i, info: info)
            last = step
            try Self.callback { try callbacks?.inLoop(info, step: step, latents: latents) }
            if let callbacks, callbacks.cancellation.isCancelled {
                try Self.callback { try callbacks.interrupted(info, lastStep: last, latents: latents) }
                try ModelError.checkCancellation(callbacks, "after step \(step.number)/\(step.total)")
            }
        }
        try Self.callback { try callbacks?.afterLoop(info, latents: latents) }
        return latents
    }

    /// Runs a callback, turning its failure into ``ModelError/callback(_:)``.
    static func callback(_ body: () throws -> Void) throws(ModelError) {
        do { try body() } catch let e as ModelError { throw e } catch { throw .callback("\(error)") }
    }
}
