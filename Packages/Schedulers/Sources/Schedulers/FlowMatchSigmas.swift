#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The unshifted sigmas and the `mu` each pipeline passes to ``FlowMatchEulerDiscreteScheduler``,
/// computed with the reference's exact arithmetic.
public enum FlowMatchSigmas {
    /// `torch.linspace(start, end, count)` in float32 on an AVX2/AVX-512 CPU: `step = (end - start)
    /// / (count - 1)`; the first half is `start + step·i`, the second `end - step·(count-1-i)`,
    /// each evaluated with one rounding (PyTorch's CPU kernel is compiled with FMA there).
    public static func torchLinspace(start: Float, end: Float, count: Int) -> [Float] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (end - start) / Float(count - 1)
        let half = count / 2
        return (0..<count).map { i in
            i < half ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(count - 1 - i))
        }
    }

    /// `numpy.linspace(start, stop, count)` in float64: `start + i·step` (two roundings) with the
    /// last value set to `stop`.
    public static func numpyLinspace(start: Double, stop: Double, count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var y = (0..<count).map { Double($0) * step + start }
        y[count - 1] = stop
        return y
    }

    /// Z-Image's default sigmas: `torch.linspace(1.0, 1/steps, steps)` (float32).
    public static func zImage(steps: Int) -> [Float] {
        torchLinspace(start: 1, end: Float(1.0 / Double(steps)), count: steps)
    }

    /// FLUX.2 [klein]'s default sigmas: `np.linspace(1.0, 1/steps, steps)` cast to float32.
    public static func flux2(steps: Int) -> [Float] {
        numpyLinspace(start: 1, stop: 1.0 / Double(steps), count: steps).map { Float($0) }
    }

    /// FLUX.2's `compute_empirical_mu(image_seq_len, num_steps)` (float64).
    public static func flux2EmpiricalMu(imageSeqLen: Int, steps: Int) -> Double {
        let a1 = 8.73809524e-05, b1 = 1.89833333
        let a2 = 0.00016927, b2 = 0.45666666
        let seq = Double(imageSeqLen)
        if imageSeqLen > 4300 { return a2 * seq + b2 }
        let m200 = a2 * seq + b2
        let m10 = a1 * seq + b1
        let a = (m200 - m10) / 190.0
        let b = m200 - 200.0 * a
        return a * Double(steps) + b
    }

    /// diffusers' `calculate_shift` (the linear `mu` Z-Image computes and its static-shift
    /// scheduler ignores).
    public static func calculateShift(imageSeqLen: Int, baseSeqLen: Int = 256, maxSeqLen: Int = 4096,
                                      baseShift: Double = 0.5, maxShift: Double = 1.15) -> Double {
        let m = (maxShift - baseShift) / Double(maxSeqLen - baseSeqLen)
        let b = baseShift - m * Double(baseSeqLen)
        return Double(imageSeqLen) * m + b
    }
}
