import TensorKit

/// RMSNorm over the last dimension (diffusers' `RMSNorm`, transformers' `Qwen3RMSNorm`):
/// `x · rsqrt(mean(x²) + eps) · weight`, statistics in float32.
public struct RMSNorm: Sendable {
    /// `[dim]` learned scale (any float dtype).
    public let weight: Tensor
    /// Added to the mean square.
    public let eps: Float

    /// Loads `<name>.weight` `[dim]`.
    public init(_ scope: WeightScope, _ name: String, dim: Int, eps: Float) throws(ModelError) {
        weight = try scope.tensor(name + ".weight", shape: [dim])
        self.eps = eps
    }

    /// `x` `[..., dim]` -> `[..., dim]` float32.
    public func callAsFunction(_ x: Tensor, _ context: ComputeContext) -> Tensor {
        context.rmsNorm(x, weight: weight, eps: eps)
    }
}
