import TensorKit

/// `torch.nn.GroupNorm` with affine weight and bias.
public struct GroupNorm: Sendable {
    /// Number of groups.
    public let groups: Int
    /// `[C]` scale and shift.
    public let weight: Tensor, bias: Tensor
    /// Added to the variance.
    public let eps: Float

    /// Loads `<name>.weight` and `<name>.bias` `[channels]`; `channels` must be divisible by `groups`.
    public init(_ scope: WeightScope, _ name: String, channels: Int, groups: Int, eps: Float) throws(ModelError) {
        guard groups > 0, channels % groups == 0 else {
            throw .invalidConfig("\(scope.loader.component): \(channels) channels are not divisible into \(groups) groups")
        }
        weight = try scope.tensor(name + ".weight", shape: [channels])
        bias = try scope.tensor(name + ".bias", shape: [channels])
        self.groups = groups
        self.eps = eps
    }

    /// `x` `[N, C, ...]` -> same shape, float32; with `silu`, `silu(norm(x))` in one pass.
    public func callAsFunction(_ x: Tensor, _ context: ComputeContext, silu: Bool = false) -> Tensor {
        context.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps, silu: silu)
    }
}
