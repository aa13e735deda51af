import TensorKit

/// A layer mapping `[..., in]` to `[..., out]`. ``Linear`` is the dense float implementation;
/// quantized or LoRA-augmented layers conform to the same protocol later.
public protocol LinearLayer: Sendable {
    /// Input features.
    var inFeatures: Int { get }
    /// Output features.
    var outFeatures: Int { get }
    /// `x` `[..., in]` -> `[..., out]` float32.
    func callAsFunction(_ x: Tensor, _ context: ComputeContext) -> Tensor
}

/// `torch.nn.Linear`: `y = x · Wᵀ + b` with the weight `[out, in]` kept in its stored dtype
/// (converted panel by panel inside the GEMM).
public struct Linear: LinearLayer {
    /// `[out, in]`, any float dtype.
    public let weight: Tensor
    /// `[out]` or nil.
    public let bias: Tensor?
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Loads `<name>.weight` `[out, in]` (and `<name>.bias` `[out]` when `bias`).
    public init(_ scope: WeightScope, _ name: String, in inFeatures: Int, out outFeatures: Int, bias: Bool) throws(ModelError) {
        weight = try scope.tensor(name + ".weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? try scope.tensor(name + ".bias", shape: [outFeatures]) : nil
    }

    public func callAsFunction(_ x: Tensor, _ context: ComputeContext) -> Tensor {
        context.linear(x, weight: weight, bias: bias)
    }
}
