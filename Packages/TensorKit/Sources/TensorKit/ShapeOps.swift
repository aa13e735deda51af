#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tensor {
    /// Concatenation of `tensors` (same dtype, equal shapes except along `axis`) along `axis`;
    /// with a `context`, large copies are spread over its workers.
    public static func concat(_ tensors: [Tensor], axis: Int, context: ComputeContext? = nil) -> Tensor {
        precondition(!tensors.isEmpty, "concat of no tensors")
        let first = tensors[0]
        let ax = axis < 0 ? axis + first.rank : axis
        precondition(ax >= 0 && ax < first.rank, "concat axis \(axis) out of range for rank \(first.rank)")
        for t in tensors {
            precondition(t.dtype == first.dtype, "concat dtypes differ: \(first.dtype) and \(t.dtype)")
            precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == ax || t.shape[$0] == first.shape[$0] },
                         "concat shapes differ outside axis \(ax): \(first.shape) and \(t.shape)")
        }
        var shape = first.shape
        shape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let outer = first.shape[..<ax].reduce(1, *)
        let innerBytes = first.shape[(ax + 1)...].reduce(1, *) * first.dtype.byteSize
        var out = Tensor(uninitialized: shape, dtype: first.dtype)
        var copies: [ByteCopy] = []
        let dst = out.mutableRawPointer
        var col = 0
        let rowBytes = shape[ax] * innerBytes
        for t in tensors {
            let chunk = t.shape[ax] * innerBytes
            let src = t.rawPointer
            for o in 0..<outer where chunk > 0 {
                copies.append(ByteCopy(dst: dst + o * rowBytes + col, src: src + o * chunk, count: chunk))
            }
            col += chunk
        }
        withExtendedLifetime(tensors) { ByteCopy.run(copies, context: context) }
        return out
    }

    /// Splits along `axis` into pieces of the given `sizes` (which must sum to the axis length);
    /// with a `context`, large copies are spread over its workers.
    public func split(sizes: [Int], axis: Int, context: ComputeContext? = nil) -> [Tensor] {
        let ax = axis < 0 ? axis + rank : axis
        precondition(ax >= 0 && ax < rank, "split axis \(axis) out of range for rank \(rank)")
        precondition(sizes.reduce(0, +) == shape[ax] && sizes.allSatisfy { $0 >= 0 }, "split sizes \(sizes) do not sum to \(shape[ax])")
        let outer = shape[..<ax].reduce(1, *)
        let innerBytes = shape[(ax + 1)...].reduce(1, *) * dtype.byteSize
        let rowBytes = shape[ax] * innerBytes
        var result: [Tensor] = []
        var copies: [ByteCopy] = []
        let src = rawPointer
        var start = 0
        for size in sizes {
            var s = shape
            s[ax] = size
            var piece = Tensor(uninitialized: s, dtype: dtype)
            let chunk = size * innerBytes
            let offset = start * innerBytes
            let dst = piece.mutableRawPointer
            for o in 0..<outer where chunk > 0 {
                copies.append(ByteCopy(dst: dst + o * chunk, src: src + o * rowBytes + offset, count: chunk))
            }
            result.append(piece)
            start += size
        }
        withExtendedLifetime(self) { ByteCopy.run(copies, context: context) }
        return result
    }

    /// Splits along `axis` into `parts` equal pieces (`torch.chunk` with a divisible length).
    public func chunked(_ parts: Int, axis: Int, context: ComputeContext? = nil) -> [Tensor] {
        let ax = axis < 0 ? axis + rank : axis
        precondition(parts > 0 && shape[ax] % parts == 0, "cannot chunk \(shape[ax]) into \(parts) equal parts")
        return split(sizes: Array(repeating: shape[ax] / parts, count: parts), axis: ax, context: context)
    }

    /// The axes reordered: output dimension i is input dimension `order[i]` (`torch.permute`).
    /// Returns a contiguous copy.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) is not a permutation of 0..<\(rank)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let strides = order.map { inStrides[$0] }
        let es = dtype.byteSize
        var out = Tensor(uninitialized: outShape, dtype: dtype)
        let n = count
        if n == 0 { return out }
        // Copy runs along the last output axis.
        let inner = outShape[rank - 1], innerStride = strides[rank - 1]
        out.withUnsafeMutableBytes { dst in
            withUnsafeBytes { src in
                var idx = [Int](repeating: 0, count: rank)
                var o = 0
                while o < n {
                    var off = 0
                    for i in 0..<(rank - 1) { off += idx[i] * strides[i] }
                    let d = dst.baseAddress! + o * es
                    let s = src.baseAddress! + off * es
                    if innerStride == 1 {
                        memcpy(d, s, inner * es)
                    } else {
                        for j in 0..<inner { memcpy(d + j * es, s + j * innerStride * es, es) }
                    }
                    o += inner
                    var ax = rank - 2
                    while ax >= 0 {
                        idx[ax] += 1
                        if idx[ax] < outShape[ax] { break }
                        idx[ax] = 0
                        ax -= 1
                    }
                }
            }
        }
        return out
    }
}

/// One memcpy of a concat/split, and running a list of them (in parallel when large).
struct ByteCopy {
    let dst: UnsafeMutableRawPointer
    let src: UnsafeRawPointer
    let count: Int

    /// Copies below this many bytes in all run on the calling thread.
    static let parallelThreshold = 1 << 20

    /// Runs `copies` (disjoint destinations), spread over `context`'s workers when it is given and
    /// the bytes are many: whole copies per worker when there are many, else each split in parts.
    static func run(_ copies: [ByteCopy], context: ComputeContext?) {
        let total = copies.reduce(0) { $0 + $1.count }
        guard let context, context.threadCount > 1, total >= parallelThreshold else {
            for c in copies { memcpy(c.dst, c.src, c.count) }
            return
        }
        let box = UncheckedSendable(copies)
        if copies.count >= 4 * context.threadCount {
            context.parallelFor(copies.count) { i in
                let c = box.value[i]
                memcpy(c.dst, c.src, c.count)
            }
            return
        }
        let parts = context.threadCount
        context.parallelFor(copies.count * parts) { j in
            let c = box.value[j / parts], p = j % parts
            let lo = c.count * p / parts, hi = c.count * (p + 1) / parts
            if hi > lo { memcpy(c.dst + lo, c.src + lo, hi - lo) }
        }
    }
}
