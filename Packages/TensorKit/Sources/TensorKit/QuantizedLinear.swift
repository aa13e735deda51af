import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ComputeContext {
    /// `y = x · Wᵀ + bias` with W a ``QuantizedMatrix``, on integer dot products: x is quantized
    /// per row and per group of the weight's `groupSize` to symmetric int8 (scale max|x|/127),
    /// each group's codes × activations summed exactly in 32-bit integers and rescaled by the
    /// activation and weight scales (plus the weight bias times the activation sum). Weight codes
    /// are unpacked one 16-column tile at a time (no float copy of the weight).
    ///
    /// - x: `[..., K]` (any float dtype); weight: `[N, K]`; bias: `[N]` or nil.
    /// - path: the integer kernels (default: the fastest this CPU runs; tests pin each one).
    /// - Returns: `[..., N]` float32.
    public func quantizedLinear(_ x: Tensor, weight: QuantizedMatrix, bias: Tensor? = nil, path: QuantKernelPath? = nil) -> Tensor {
        let n = weight.rows, k = weight.columns
        precondition(x.rank >= 1 && x.shape.last == k, "quantized linear input \(x.shape) does not end in K=\(k)")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        var outShape = x.shape
        outShape[outShape.count - 1] = n
        var y = Tensor(uninitialized: outShape, dtype: .float32)
        let m = x.count / max(k, 1)
        let yp = y.mutableFloatPointer()
        fillBias(bias, rows: m, n: n, offset: 0, into: yp)
        let kernels = resolved(path)
        let a = quantizeActivations(x, k: k, group: weight.groupSize, path: kernels)
        defer { release(a) }
        quantizedProduct(a, weight: weight, rows: 0..<n, columns: 0..<k, y: yp, ldc: n, accumulate: bias != nil, path: kernels)
        return y
    }

    /// `quantizedLinear(x, weight, bias).split(sizes: sizes, axis: -1)` without the copies: part i
    /// is computed from its rows of the weight.
    /// - x: `[..., K]`; weight `[N, K]` with `N == sizes.reduce(0, +)`. Returns `[..., sizes[i]]` float32.
    public func quantizedLinearSplit(_ x: Tensor, weight: QuantizedMatrix, bias: Tensor? = nil, sizes: [Int]) -> [Tensor] {
        let n = weight.rows, k = weight.columns
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == n, "split sizes \(sizes) do not add up to N=\(n)")
        precondition(x.rank >= 1 && x.shape.last == k, "quantized linear input \(x.shape) does not end in K=\(k)")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        let m = x.count / max(k, 1)
        let kernels = resolved(nil)
        let a = quantizeActivations(x, k: k, group: weight.groupSize, path: kernels)  // once for every part
        defer { release(a) }
        var parts: [Tensor] = []
        var row = 0
        for size in sizes {
            var shape = x.shape
            shape[shape.count - 1] = size
            var y = Tensor(uninitialized: shape, dtype: .float32)
            let yp = y.mutableFloatPointer()
            fillBias(bias, rows: m, n: size, offset: row, into: yp)
            quantizedProduct(a, weight: weight, rows: row..<(row + size), columns: 0..<k, y: yp, ldc: size, accumulate: bias != nil,
                             path: kernels)
            parts.append(y)
            row += size
        }
        return parts
    }

    /// `quantizedLinear(concat(inputs, axis: -1), weight, bias)` without the concatenation: each
    /// input's product with its column block of the weight accumulates into the output. Every
    /// input but the last must be a multiple of the group size wide (blocks start on groups).
    public func quantizedLinearConcat(_ inputs: [Tensor], weight: QuantizedMatrix, bias: Tensor? = nil) -> Tensor {
        let n = weight.rows, k = weight.columns
        precondition(!inputs.isEmpty, "quantizedLinearConcat needs at least one input")
        let lead = Array(inputs[0].shape.dropLast())
        precondition(inputs.allSatisfy { $0.rank >= 1 && Array($0.shape.dropLast()) == lead },
                     "inputs \(inputs.map(\.shape)) differ before the last dimension")
        precondition(inputs.reduce(0) { $0 + $1.shape.last! } == k, "inputs' widths \(inputs.map { $0.shape.last! }) do not add up to K=\(k)")
        precondition(inputs.dropLast().allSatisfy { $0.shape.last! % weight.groupSize == 0 },
                     "inputs' widths \(inputs.map { $0.shape.last! }) do not start on groups of \(weight.groupSize)")
        if let bias { precondition(bias.shape == [n], "linear bias \(bias.shape) is not [\(n)]") }
        let m = Tensor.elementCount(lead)!, kernels = resolved(nil)
        var y = Tensor(uninitialized: lead + [n], dtype: .float32)
        let yp = y.mutableFloatPointer()
        fillBias(bias, rows: m, n: n, offset: 0, into: yp)
        var accumulate = bias != nil, column = 0
        for input in inputs {
            let ki = input.shape.last!
            if ki == 0 { continue }
            let a = quantizeActivations(input, k: ki, group: weight.groupSize, path: kernels)
            quantizedProduct(a, weight: weight, rows: 0..<n, columns: column..<(column + ki), y: yp, ldc: n, accumulate: accumulate,
                             path: kernels)
            release(a)
            accumulate = true
            column += ki
        }
        if !accumulate { for i in 0..<(m * n) { yp[i] = 0 } }
        return y
    }

    /// Rows `offset ..< offset + n` of `bias` copied into each of `rows` output rows.
    private func fillBias(_ bias: Tensor?, rows m: Int, n: Int, offset: Int, into y: UnsafeMutablePointer<Float>) {
        guard let bias, n > 0 else { return }
        let b = bias.toFloat32(context: self)
        for i in 0..<m { memcpy(y + i * n, b.floatPointer + offset, n * 4) }
        withExtendedLifetime(b) {}
    }

    /// `path`, or the fastest this CPU runs; a path the CPU lacks is a programming error.
    private func resolved(_ path: QuantKernelPath?) -> QuantKernelPath {
        let kernels = path ?? .best
        precondition(kernels.isSupported, "quantized kernel path \(kernels) is not supported by this CPU")
        return kernels
    }

    /// Rows of x quantized per group to int8 (workspace buffers: `release` gives them back).
    private struct QuantizedActivations {
        let q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>
        let m: Int, k: Int, groups: Int
    }

    /// `x` `[..., k]` as int8 per row and group of `group` (scale max|x|/127), in parallel, with
    /// `path`'s vector width.
    private func quantizeActivations(_ x: Tensor, k: Int, group: Int, path: QuantKernelPath) -> QuantizedActivations {
        let m = k == 0 ? 0 : x.count / k, groups = k / group
        let a = QuantizedActivations(q: workspaces.take(Int8.self, m * k), scales: workspaces.take(Float.self, m * groups),
                                     sums: workspaces.take(Int32.self, m * groups), m: m, k: k, groups: groups)
        let xf = x.toFloat32(context: self)
        let box = UncheckedSendable(a)
        withExtendedLifetime(xf) {
            let xp = UncheckedSendable(xf.floatPointer)
            parallelChunks(m) { _, r in
                tk_q8_quantize_rows(path.cValue, xp.value + r.lowerBound * k, k, r.count, k, group, box.value.q + r.lowerBound * k,
                                    box.value.scales + r.lowerBound * groups, box.value.sums + r.lowerBound * groups)
            }
        }
        return a
    }

    private func release(_ a: QuantizedActivations) {
        workspaces.give(a.q, a.m * a.k)
        workspaces.give(a.scales, a.m * a.groups)
        workspaces.give(a.sums, a.m * a.groups)
    }

    /// `y[:, 0..<rows.count] (+)= x · W[rows, columns]ᵀ` (ldc: y's row stride) for activations
    /// quantized with the weight's group size; `columns` starts on a group and is `a.k` wide.
    private func quantizedProduct(_ a: QuantizedActivations, weight: QuantizedMatrix, rows: Range<Int>, columns: Range<Int>,
                                  y: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, path kernels: QuantKernelPath) {
        let group = weight.groupSize, k = columns.count, n = rows.count
        precondition(columns.lowerBound % group == 0 && k % group == 0 && k == a.k, "column block \(columns) is not made of whole groups")
        let m = a.m, groups = a.groups
        if m == 0 || n == 0 || k == 0 { return }
        let qaBox = UncheckedSendable(a.q), saBox = UncheckedSendable(a.scales), sumBox = UncheckedSendable(a.sums)
        let tiles = (n + 15) / 16
        let codeBytes = k * 16  // one tile: k/4 quads x 16 columns x 4 codes
        let scaleDType: Int32 = weight.scales.dtype == .float32 ? 0 : (weight.scales.dtype == .bfloat16 ? 1 : 2)
        let words = weight.packed.shape[1], bits = Int32(weight.bits), acc: Int32 = accumulate ? 1 : 0
        // The block's first word and group within each row (columns start on a group, and a group
        // of 64 codes fills whole words at every width).
        let wordOffset = columns.lowerBound * weight.bits / 32, groupOffset = columns.lowerBound / group
        let totalGroups = weight.columns / group, es = weight.scales.dtype.byteSize
        let yBox = UncheckedSendable(y)
        withExtendedLifetime(weight) {
            let pp = UncheckedSendable(weight.packed.rawPointer.assumingMemoryBound(to: UInt32.self) + rows.lowerBound * words + wordOffset)
            let sp = UncheckedSendable(weight.scales.rawPointer + (rows.lowerBound * totalGroups + groupOffset) * es)
            let bp = UncheckedSendable(weight.biases.rawPointer + (rows.lowerBound * totalGroups + groupOffset) * es)
            // Workers take pairs of tiles (the VNNI kernel's 32 columns); each pair is unpacked once
            // and multiplied with every row.
            parallelChunks((tiles + 1) / 2) { _, range in
                let codes = workspaces.take(UInt8.self, 2 * codeBytes)
                let ts = workspaces.take(Float.self, 2 * groups * 16), tb = workspaces.take(Float.self, 2 * groups * 16)
                defer { workspaces.give(codes, 2 * codeBytes); workspaces.give(ts, 2 * groups * 16); workspaces.give(tb, 2 * groups * 16) }
                for pair in range {
                    let t0 = pair * 2, count = min(2, tiles - t0)
                    for i in 0..<count {
                        tk_q8_pack_tile(pp.value, words, bits, sp.value, bp.value, scaleDType, (t0 + i) * 16, n, k, group,
                                        totalGroups, codes + i * codeBytes, ts + i * groups * 16, tb + i * groups * 16)
                    }
                    tk_q8_gemm_tiles(kernels.cValue, qaBox.value, saBox.value, sumBox.value, m, k, group, bits, codes, ts, tb, count,
                                     min(16 * count, n - t0 * 16), yBox.value + t0 * 16, ldc, acc)
                }
            }
        }
    }
}
