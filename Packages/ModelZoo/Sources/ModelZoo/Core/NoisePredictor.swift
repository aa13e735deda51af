import TensorKit

/// A model's `predict`: what the scheduler steps with, for the latents at one step (the model
/// call(s) and the model's guidance formula). Everything else in the loop is shared.
public protocol NoisePredictor {
    /// The model output for `latents` (same shape as `latents`) at schedule index `index`, whose
    /// timestep is `timestep` (in [0, 1000]) and sigma `sigma`.
    func predict(latents: Tensor, index: Int, timestep: Float, sigma: Float, context: ComputeContext) throws(ModelError) -> Tensor
}
