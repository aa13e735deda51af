import TensorKit

/// Called once before the first step, with the initial latents.
public protocol BeforeLoopCallback: AnyObject {
    /// `latents`: the model's latents before the first step.
    func beforeLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) throws
}

/// Called after every step, with the latents that step produced.
public protocol InLoopCallback: AnyObject {
    /// `latents`: the latents after `step`.
    func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor, manager: CallbackManager) throws
}

/// Called once after the last step, with the final latents.
public protocol AfterLoopCallback: AnyObject {
    /// `latents`: the final latents (before decoding).
    func afterLoop(_ info: LoopInfo, latents: Tensor, manager: CallbackManager) throws
}

/// Called when a loop stops early because cancellation was requested.
public protocol InterruptCallback: AnyObject {
    /// `lastStep`: the last finished step (nil when none ran); `latents`: the latents then.
    func interrupted(_ info: LoopInfo, lastStep: StepInfo?, latents: Tensor, manager: CallbackManager) throws
}

/// Called at the stages around the loops (components loaded and released, prompts encoded,
/// images decoded and written).
public protocol StageCallback: AnyObject {
    /// One stage event.
    func stage(_ event: StageEvent, manager: CallbackManager)
}

/// A stage of a generation run.
public enum StageEvent: Sendable, Equatable {
    /// A component (e.g. "text_encoder", "transformer", "vae") was loaded in `seconds`.
    case loaded(component: String, seconds: Double)
    /// A component was released (its weights unmapped).
    case released(component: String)
    /// A prompt (with its negative prompt, if any) was encoded in `seconds`.
    case promptEncoded(seconds: Double)
    /// Image `imageIndex` was decoded in `seconds`.
    case decoded(imageIndex: Int, seconds: Double)
    /// A file was written.
    case wrote(path: String)
}
