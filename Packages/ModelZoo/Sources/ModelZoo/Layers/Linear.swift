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
/// (converted panel by panel inside the GEMM), or, when the loader quantizes (`-q`), multiplied as
/// a ``QuantizedMatrix`` on integer kernels.
public struct Linear: LinearLayer {
    /// `[out, in]`, any float dtype (as stored; unused for compute when ``quantized`` is set).
    public let weight: Tensor
    /// `[out]` or nil.
    public let bias: Tensor?
    /// The weight in MLX's affine quantization, when the loader quantized it.
    public let quantized: QuantizedMatrix?
    /// LoRA adapters added as a side path (``LoRAAdapter``), in the order given.
    public let lora: [LoRAAdapter]
    public var inFeatures: Int { quantized?.columns ?? weight.shape[1] }
    public var outFeatures: Int { quantized?.rows ?? weight.shape[0] }

    /// Loads `<name>.weight` `[out, in]` (and `<name>.bias` `[out]` when `bias`). A layer stored
    /// quantized (a folder saved by mflux: `weight` uint32, `scales`, `biases`) is taken as it is,
    /// whatever `-q` asks; otherwise the weight is quantized when the loader has a
    /// ``WeightQuantization`` and `in` is a multiple of its group size, and the mapped float
    /// weight's pages are let go.
    public init(_ scope: WeightScope, _ name: String, in inFeatures: Int, out outFeatures: Int, bias: Bool) throws(ModelError) {
        lora = scope.checkOnly ? [] : try scope.loader.loras?.take(scope.name(name), in: inFeatures, out: outFeatures) ?? []
        let stored = try scope.storedQuantized(name, rows: outFeatures, columns: inFeatures)
        if stored.stored {
            quantized = stored.matrix
            weight = Tensor(zeros: [outFeatures, 0])
        } else {
            weight = try scope.tensor(name + ".weight", shape: [outFeatures, inFeatures])
            quantized = try scope.quantizedOnTheFly(weight, name)
        }
        self.bias = bias ? try scope.tensor(name + ".bias", shape: [outFeatures]) : nil
    }

    public func callAsFunction(_ x: Tensor, _ context: ComputeContext) -> Tensor {
        let base = quantized.map { context.quantizedLinear(x, weight: $0, bias: bias) } ?? context.linear(x, weight: weight, bias: bias)
        return withLoRA(base, x, context)
    }

    /// `base + Σ scale·B(A(x))` over the adapters, in order (PEFT adds each to the result).
    func withLoRA(_ base: Tensor, _ x: Tensor, _ context: ComputeContext) -> Tensor {
        lora.reduce(base) { context.add($0, $1.delta(x, context)) }
    }

    /// `self(x).split(sizes, axis: -1)`, each part computed from its rows of the weight (no copies).
    public func split(_ x: Tensor, sizes: [Int], _ context: ComputeContext) -> [Tensor] {
        var parts = quantized.map { context.quantizedLinearSplit(x, weight: $0, bias: bias, sizes: sizes) }
            ?? context.linearSplit(x, weight: weight, bias: bias, sizes: sizes)
        for adapter in lora {
            let delta = adapter.delta(x, context).split(sizes: sizes, axis: -1, context: context)
            for i in parts.indices { parts[i] = context.add(parts[i], delta[i]) }
        }
        return parts
    }

    /// `self(concat(inputs, axis: -1))`, the inputs' products with the weight's column blocks
    /// summed (no concatenation; a quantized weight needs blocks starting on groups, else it
    /// concatenates; LoRA adapters see the concatenated input).
    public func concatenated(_ inputs: [Tensor], _ context: ComputeContext) -> Tensor {
        if !lora.isEmpty { return self(Tensor.concat(inputs, axis: -1, context: context), context) }
        if let quantized {
            if inputs.dropLast().allSatisfy({ $0.shape.last! % quantized.groupSize == 0 }) {
                return context.quantizedLinearConcat(inputs, weight: quantized, bias: bias)
            }
            return self(Tensor.concat(inputs, axis: -1, context: context), context)
        }
        return context.linearConcat(inputs, weight: weight, bias: bias)
    }
}
