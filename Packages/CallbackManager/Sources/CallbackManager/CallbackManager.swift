import ImageIO
import TensorKit

/// Turns latents into an image; a model hands one to the manager for the duration of a run so
/// that features such as stepwise previews work for every model.
public typealias LatentDecoder = (Tensor) throws -> RGBImage

/// Marks a callback that needs ``CallbackManager/decoder`` (the model then keeps its image
/// decoder loaded during the loop).
public protocol NeedsLatentDecoder: AnyObject {}

/// The callbacks of a generation run and its cancellation token.
///
/// Features register once (``register(_:)``) and are called for every model: the model's loop
/// calls ``beforeLoop(_:latents:)``, ``inLoop(_:step:latents:)`` after each step,
/// ``afterLoop(_:latents:)``, ``interrupted(_:lastStep:latents:)`` when it stops early, and
/// ``checkCancellation(_:)`` between steps and stages. Used from the generation thread only;
/// the ``cancellation`` token may be cancelled from anywhere.
public final class CallbackManager {
    /// Cancelled to stop the run after the current step (or stage).
    public let cancellation: CancellationToken
    /// The model's latent-to-image decoder while a run is active (nil otherwise).
    public var decoder: LatentDecoder?

    private var registered: Set<ObjectIdentifier> = []
    private var beforeLoopCallbacks: [any BeforeLoopCallback] = []
    private var inLoopCallbacks: [any InLoopCallback] = []
    private var afterLoopCallbacks: [any AfterLoopCallback] = []
    private var interruptCallbacks: [any InterruptCallback] = []
    private var stageCallbacks: [any StageCallback] = []
    private var decoderUsers = 0

    /// A manager with no callbacks.
    public init(cancellation: CancellationToken = CancellationToken()) {
        self.cancellation = cancellation
    }

    /// Adds `feature` to every callback kind it implements; registering the same object again
    /// does nothing. Callbacks run in registration order.
    public func register(_ feature: AnyObject) {
        guard registered.insert(ObjectIdentifier(feature)).inserted else { return }
        if let c = feature as? any BeforeLoopCallback { beforeLoopCallbacks.append(c) }
        if let c = feature as? any InLoopCallback { inLoopCallbacks.append(c) }
        if let c = feature as? any AfterLoopCallback { afterLoopCallbacks.append(c) }
        if let c = feature as? any InterruptCallback { interruptCallbacks.append(c) }
        if let c = feature as? any StageCallback { stageCallbacks.append(c) }
        if feature is any NeedsLatentDecoder { decoderUsers += 1 }
    }

    /// Number of registered features.
    public var count: Int { registered.count }

    /// Whether a registered feature decodes latents during the loop.
    public var needsDecoder: Bool { decoderUsers > 0 }

    /// Decodes `latents` with the model's decoder (an error when the model gave none).
    public func decode(_ latents: Tensor) throws -> RGBImage {
        guard let decoder else { throw CallbackError("no latent decoder was given to the callback manager") }
        return try decoder(latents)
    }

    /// Calls every before-loop callback.
    public func beforeLoop(_ info: LoopInfo, latents: Tensor) throws {
        for c in beforeLoopCallbacks { try c.beforeLoop(info, latents: latents, manager: self) }
    }

    /// Calls every in-loop callback.
    public func inLoop(_ info: LoopInfo, step: StepInfo, latents: Tensor) throws {
        for c in inLoopCallbacks { try c.inLoop(info, step: step, latents: latents, manager: self) }
    }

    /// Calls every after-loop callback.
    public func afterLoop(_ info: LoopInfo, latents: Tensor) throws {
        for c in afterLoopCallbacks { try c.afterLoop(info, latents: latents, manager: self) }
    }

    /// Calls every interrupt callback.
    public func interrupted(_ info: LoopInfo, lastStep: StepInfo?, latents: Tensor) throws {
        for c in interruptCallbacks { try c.interrupted(info, lastStep: lastStep, latents: latents, manager: self) }
    }

    /// Reports a stage event to every stage callback.
    public func stage(_ event: StageEvent) {
        for c in stageCallbacks { c.stage(event, manager: self) }
    }

    /// Throws ``GenerationCancelled`` (naming `stage`, e.g. "after step 2/9") when cancellation
    /// was requested.
    public func checkCancellation(_ stage: @autoclosure () -> String) throws(GenerationCancelled) {
        if let signal = cancellation.signal { throw GenerationCancelled(stage: stage(), signal: signal) }
    }
}

/// A callback's own failure (one line).
public struct CallbackError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// An error with `message`.
    public init(_ message: String) { description = message }
}
