import CTensorKernels

extension ComputeContext {
    /// RMSNorm over the last dimension, as diffusers/transformers compute it in float32:
    /// `x · rsqrt(mean(x²) + eps) · weight`.
    /// - x: `[..., D]`; weight: `[D]` (any float dtype) or nil. Returns `[..., D]` float32.
    public func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float) -> Tensor {
        let d = x.shape.last ?? 0
        if let weight { precondition(weight.shape == [d], "RMSNorm weight \(weight.shape) is not [\(d)]") }
        let w = weight?.toFloat32(context: self)
        return withExtendedLifetime(w) {
            let wp = UncheckedSendable(w?.floatPointer)
            return rowwise(x) { path, src, dst, rows, cols in
                tk_rmsnorm_rows(path, src, wp.value, dst, rows, cols, eps)
            }
        }
    }

    /// LayerNorm over the last dimension (biased variance), optional affine:
    /// `(x - mean) / sqrt(var + eps) [· weight + bias]`.
    /// - x: `[..., D]`; weight, bias: `[D]` or nil. Returns `[..., D]` float32.
    public func layerNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float) -> Tensor {
        let d = x.shape.last ?? 0
        if let weight { precondition(weight.shape == [d], "LayerNorm weight \(weight.shape) is not [\(d)]") }
        if let bias { precondition(bias.shape == [d], "LayerNorm bias \(bias.shape) is not [\(d)]") }
        let w = weight?.toFloat32(context: self), b = bias?.toFloat32(context: self)
        return withExtendedLifetime((w, b)) {
            let wp = UncheckedSendable(w?.floatPointer), bp = UncheckedSendable(b?.floatPointer)
            return rowwise(x) { path, src, dst, rows, cols in
                tk_layernorm_rows(path, src, wp.value, bp.value, dst, rows, cols, eps)
            }
        }
    }

    /// GroupNorm of an NCHW (or NC...) tensor: `groups` groups of C/groups channels, statistics
    /// over each group's channels and spatial positions, then per-channel affine; with `silu`,
    /// SiLU applied in the same pass (the values of ``silu(_:)`` of the result, without the
    /// intermediate tensor).
    /// - x: `[N, C, ...]`; weight, bias: `[C]` or nil. Returns the same shape, float32.
    public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float, silu: Bool = false) -> Tensor {
        precondition(x.rank >= 2, "GroupNorm input must be [N, C, ...], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1]
        precondition(groups > 0 && c % groups == 0, "GroupNorm: \(c) channels are not divisible into \(groups) groups")
        if let weight { precondition(weight.shape == [c], "GroupNorm weight \(weight.shape) is not [\(c)]") }
        if let bias { precondition(bias.shape == [c], "GroupNorm bias \(bias.shape) is not [\(c)]") }
        let hw = c == 0 || n == 0 ? 0 : x.count / (n * c)
        let xf = x.toFloat32(context: self)
        let w = weight?.toFloat32(context: self), b = bias?.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let path = kernelPath.cValue
        let cpg = c / groups
        withExtendedLifetime((xf, w, b)) {
            let xp = UncheckedSendable(xf.floatPointer)
            let wp = UncheckedSendable(w?.floatPointer), bp = UncheckedSendable(b?.floatPointer)
            // One work item per (sample, group).
            parallelFor(n * groups) { item in
                let s = item / groups, g = item % groups
                let off = (s * c + g * cpg) * hw
                tk_groupnorm(path, xp.value + off, wp.value.map { $0 + g * cpg }, bp.value.map { $0 + g * cpg },
                             op.value + off, cpg, hw, 1, eps, silu ? 1 : 0)
            }
        }
        return out
    }

    /// BatchNorm with running statistics and no affine, in either direction, per channel of an
    /// `[N, C, ...]` tensor:
    /// normalise `(x - mean) / sqrt(var + eps)`, or de-normalise `x · sqrt(var + eps) + mean`.
    /// - runningMean, runningVar: `[C]`. Returns the same shape, float32.
    public func batchNormStatistics(_ x: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float, inverse: Bool) -> Tensor {
        precondition(x.rank >= 2, "BatchNorm input must be [N, C, ...], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1]
        precondition(runningMean.shape == [c] && runningVar.shape == [c], "BatchNorm statistics must be [\(c)]")
        let hw = c == 0 || n == 0 ? 0 : x.count / (n * c)
        let mean = runningMean.floats(context: self), variance = runningVar.floats(context: self)
        let xf = x.toFloat32(context: self)
        var out = Tensor(uninitialized: x.shape, dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let path = kernelPath.cValue
        withExtendedLifetime(xf) {
            let xp = UncheckedSendable(xf.floatPointer)
            parallelFor(n * c) { item in
                let ch = item % c
                let std = (variance[ch] + eps).squareRoot()
                let off = item * hw
                if inverse {
                    tk_scale_shift(path, xp.value + off, std, mean[ch], op.value + off, hw)
                } else {
                    // (x - mean) / std, evaluated as PyTorch does: subtract, then divide.
                    for i in 0..<hw { op.value[off + i] = (xp.value[off + i] - mean[ch]) / std }
                }
            }
        }
        return out
    }
}
