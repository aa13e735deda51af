import CTensorKernels

/// The integer kernels of ``ComputeContext/quantizedLinear(_:weight:bias:path:)``.
public enum QuantKernelPath: Int32, Sendable, CaseIterable {
    /// Plain C.
    case scalar = 0
    /// `vpmaddwd` on 16-bit codes and activations (AVX2 + FMA): no 16-bit saturation.
    case avx2 = 1
    /// `vpdpbusd` on u8 codes × s8 activations (AVX512-VNNI).
    case avx512vnni = 2

    /// Whether this CPU runs the path.
    public var isSupported: Bool { tk_q8_path_supported(tk_q8_path(rawValue: UInt32(rawValue))) != 0 }
    /// The fastest path this CPU runs.
    public static var best: QuantKernelPath { allCases.last { $0.isSupported } ?? .scalar }
    var cValue: tk_q8_path { tk_q8_path(rawValue: UInt32(rawValue)) }
}

/// A `[rows, columns]` weight in MLX's affine group quantization (mflux's `-q` format):
/// `w ≈ scale·q + bias` per group of `groupSize` consecutive values of a row, codes `q` in
/// `[0, 2^bits - 1]` packed as a little-endian bit stream into `uint32` words (for 8, 4 and 2
/// bits: 32/bits codes per word, the first in the lowest bits).
public struct QuantizedMatrix: Sendable {
    /// `[rows, columns·bits/32]` uint32.
    public let packed: Tensor
    /// `[rows, columns/groupSize]` float32, bfloat16 or float16 (MLX stores the weight's dtype).
    public let scales: Tensor
    /// Same shape and dtype as `scales`.
    public let biases: Tensor
    /// 3, 4, 5, 6 or 8.
    public let bits: Int
    /// Values per group along a row (MLX's default 64).
    public let groupSize: Int

    /// Bit widths mflux and MLX's affine mode use.
    public static let supportedBits = [3, 4, 5, 6, 8]

    /// Rows (output features).
    public var rows: Int { packed.shape[0] }
    /// Columns (input features).
    public var columns: Int { packed.shape[1] * 32 / bits }

    /// Wraps stored tensors; throws when shapes or dtypes do not form one quantized matrix.
    public init(packed: Tensor, scales: Tensor, biases: Tensor, bits: Int, groupSize: Int) throws(TensorError) {
        guard QuantizedMatrix.supportedBits.contains(bits) else { throw .invalidArgument("unsupported quantization bits \(bits) (3, 4, 5, 6 or 8)") }
        guard groupSize > 0, groupSize % 32 == 0 else { throw .invalidArgument("quantization group size \(groupSize) is not a positive multiple of 32") }
        guard packed.dtype == .uint32, packed.rank == 2 else { throw .invalidArgument("quantized weight must be uint32 [rows, words], got \(packed.dtype.rawValue) \(packed.shape)") }
        guard [.float32, .bfloat16, .float16].contains(scales.dtype), biases.dtype == scales.dtype else {
            throw .invalidArgument("quantization scales/biases must share a float dtype, got \(scales.dtype.rawValue)/\(biases.dtype.rawValue)")
        }
        let columns = packed.shape[1] * 32 / bits
        guard packed.shape[1] * 32 % bits == 0, columns % groupSize == 0,
              scales.shape == [packed.shape[0], columns / groupSize], biases.shape == scales.shape else {
            throw .invalidArgument("quantized shapes do not match: weight \(packed.shape), scales \(scales.shape), biases \(biases.shape) at \(bits) bits, group \(groupSize)")
        }
        self.packed = packed
        self.scales = scales
        self.biases = biases
        self.bits = bits
        self.groupSize = groupSize
    }

    /// The bit width implied by stored shapes (mflux infers it per layer so): `words·32 /
    /// (groups·groupSize)`, or nil when that is not a supported width.
    public static func inferBits(packedWords: Int, groups: Int, groupSize: Int = 64) -> Int? {
        guard groups > 0, packedWords * 32 % (groups * groupSize) == 0 else { return nil }
        let bits = packedWords * 32 / (groups * groupSize)
        return supportedBits.contains(bits) ? bits : nil
    }

    /// Quantizes `weight` `[rows, columns]` (any float dtype) as MLX's `mx.quantize` does: codes
    /// from the float32 scale and bias; the stored scales and biases rounded to the weight's dtype
    /// (float32 for float32 weights). Throws when columns is not a multiple of `groupSize`.
    public static func quantize(_ weight: Tensor, bits: Int, groupSize: Int = 64, context: ComputeContext) throws(TensorError) -> QuantizedMatrix {
        guard weight.rank == 2 else { throw .invalidArgument("only a matrix can be quantized, got \(weight.shape)") }
        guard supportedBits.contains(bits) else { throw .invalidArgument("unsupported quantization bits \(bits) (3, 4, 5, 6 or 8)") }
        let (n, k) = (weight.shape[0], weight.shape[1])
        guard groupSize > 0, k % groupSize == 0 else {
            throw .invalidArgument("\(k) columns are not a multiple of the group size \(groupSize)")
        }
        let groups = k / groupSize, words = k * bits / 32
        var packed = Tensor(uninitialized: [n, words], dtype: .uint32)
        var scales = Tensor(uninitialized: [n, groups], dtype: .float32)
        var biases = Tensor(uninitialized: [n, groups], dtype: .float32)
        let pp = UncheckedSendable(packed.mutableRawPointer.assumingMemoryBound(to: UInt32.self))
        let sp = UncheckedSendable(scales.mutableFloatPointer()), bp = UncheckedSendable(biases.mutableFloatPointer())
        let w = UncheckedSendable(weight)
        context.parallelChunks(n) { _, range in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: k)
            defer { row.deallocate() }
            for r in range {
                context.convertToFloat32(w.value.rawPointer + r * k * w.value.dtype.byteSize, dtype: w.value.dtype, count: k, into: row)
                tk_affine_quantize_row(row, k, Int32(bits), groupSize, pp.value + r * words, sp.value + r * groups, bp.value + r * groups)
            }
        }
        let storage: DType = [.bfloat16, .float16].contains(weight.dtype) ? weight.dtype : .float32
        if storage != .float32 {
            scales = scales.converted(to: storage, context: context)
            biases = biases.converted(to: storage, context: context)
        }
        return try QuantizedMatrix(packed: packed, scales: scales, biases: biases, bits: bits, groupSize: groupSize)
    }

    /// `scale·q + bias` in float32, `[rows, columns]` (reference and fallback; the products use
    /// the codes directly).
    public func dequantized(context: ComputeContext) -> Tensor {
        let (n, k, g) = (rows, columns, groupSize)
        let s = scales.toFloat32(context: context), b = biases.toFloat32(context: context)
        var out = Tensor(uninitialized: [n, k], dtype: .float32)
        let op = UncheckedSendable(out.mutableFloatPointer())
        let words = packed.shape[1], bits = self.bits
        withExtendedLifetime((s, b, packed)) {
            let pp = UncheckedSendable(packed.rawPointer.assumingMemoryBound(to: UInt32.self))
            let sp = UncheckedSendable(s.floatPointer), bp = UncheckedSendable(b.floatPointer)
            context.parallelChunks(n) { _, range in
                let codes = UnsafeMutablePointer<UInt8>.allocate(capacity: k)
                defer { codes.deallocate() }
                for r in range {
                    tk_affine_unpack_codes(pp.value + r * words, 0, k, Int32(bits), codes)
                    for i in 0..<k {
                        let grp = r * (k / g) + i / g
                        op.value[r * k + i] = Float(codes[i]) * sp.value[grp] + bp.value[grp]
                    }
                }
            }
        }
        return out
    }

    /// The rows `indices` as `scale·q + bias` in float32, `[indices.count, columns]` (a quantized
    /// embedding lookup, as MLX's `QuantizedEmbedding` dequantizes the gathered rows).
    public func dequantizedRows(_ indices: [Int], context: ComputeContext) throws(TensorError) -> Tensor {
        let (n, k, g) = (rows, columns, groupSize)
        if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
            throw .invalidArgument("row \(bad) is outside the \(n) rows of the quantized table")
        }
        var out = Tensor(uninitialized: [indices.count, k], dtype: .float32)
        let op = out.mutableFloatPointer()
        let words = packed.shape[1], groups = k / g
        var sRow = [Float](repeating: 0, count: groups), bRow = [Float](repeating: 0, count: groups)
        var codes = [UInt8](repeating: 0, count: k)
        let sBytes = scales.dtype.byteSize, bBytes = biases.dtype.byteSize
        for (j, r) in indices.enumerated() {
            sRow.withUnsafeMutableBufferPointer { context.convertToFloat32(scales.rawPointer + r * groups * sBytes, dtype: scales.dtype, count: groups, into: $0.baseAddress!) }
            bRow.withUnsafeMutableBufferPointer { context.convertToFloat32(biases.rawPointer + r * groups * bBytes, dtype: biases.dtype, count: groups, into: $0.baseAddress!) }
            codes.withUnsafeMutableBufferPointer {
                tk_affine_unpack_codes(packed.rawPointer.assumingMemoryBound(to: UInt32.self) + r * words, 0, k, Int32(bits), $0.baseAddress!)
            }
            for i in 0..<k { op[j * k + i] = Float(codes[i]) * sRow[i / g] + bRow[i / g] }
        }
        return out
    }
}
