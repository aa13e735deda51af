import TensorKit

/// `torch.nn.Conv2d` (NCHW, zero padding), weight kept in its stored dtype.
public struct Conv2d: Sendable {
    /// `[out, in, k, k]`.
    public let weight: Tensor
    /// `[out]` or nil.
    public let bias: Tensor?
    /// Stride of both spatial dimensions.
    public let stride: Int
    /// Zero padding per side.
    public let padding: Padding2d

    /// Loads `<name>.weight` `[out, in, kernel, kernel]` and `<name>.bias` `[out]`.
    public init(_ scope: WeightScope, _ name: String, in inChannels: Int, out outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Padding2d, bias: Bool = true) throws(ModelError) {
        weight = try scope.tensor(name + ".weight", shape: [outChannels, inChannels, kernel, kernel])
        self.bias = bias ? try scope.tensor(name + ".bias", shape: [outChannels]) : nil
        self.stride = stride
        self.padding = padding
    }

    /// `x` `[N, in, H, W]` -> `[N, out, H', W']` float32.
    public func callAsFunction(_ x: Tensor, _ context: ComputeContext) -> Tensor {
        context.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// The convolution of `x` nearest-upsampled 2x (diffusers' `Upsample2D`: interpolate, then
    /// conv), without making the upsampled tensor: `[N, C, H, W]` -> `[N, O, 2H', 2W']`.
    public func upsampled(_ x: Tensor, _ context: ComputeContext) -> Tensor {
        context.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, upsample2x: true)
    }
}
