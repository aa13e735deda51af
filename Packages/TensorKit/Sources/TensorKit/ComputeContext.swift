import CTensorKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where and how TensorKit computes: the number of threads and the element-wise kernel path.
///
/// One context owns the thread count. TensorKit splits every parallel operation (GEMM column
/// blocks, attention tiles, convolution bands, rows of element-wise ops) over `threadCount`
/// workers with `DispatchQueue.concurrentPerform`, and OpenBLAS runs single-threaded inside
/// them, so there are never more busy threads than `threadCount`.
public struct ComputeContext: Sendable {
    /// Worker threads used by parallel operations (>= 1).
    public let threadCount: Int
    /// The build of the C element-wise kernels used.
    public let kernelPath: KernelPath
    /// OpenBLAS, loaded with the core type chosen for this CPU.
    public let blas: BLAS
    /// The arithmetic of matrix products with weights (``linear(_:weight:bias:)``): the requested
    /// one when this CPU runs it, else `.fp32`.
    public let precision: ComputePrecision
    /// The precision asked for at creation.
    public let requestedPrecision: ComputePrecision
    /// Reusable kernel workspaces (shared by copies of this context).
    public let workspaces: WorkspacePool
    /// Whether bf16 weight products run on AMX-BF16 tiles (precision `.bf16`, a CPU with AMX and
    /// the OS's permission, and `allowAMX` at creation); otherwise on AVX512-BF16.
    public let usesAMX: Bool

    /// A context with `threadCount` workers (default: the online CPUs), `kernelPath` (default: the
    /// widest supported) and `precision` for weight products (bf16 falls back to fp32 where the CPU
    /// lacks AVX512-BF16; `allowAMX: false` keeps bf16 products off AMX tiles). Throws when the path
    /// is not supported by this CPU, the thread count is below 1, or OpenBLAS cannot be loaded.
    public init(threadCount: Int? = nil, kernelPath: KernelPath? = nil, precision: ComputePrecision = .fp32,
                allowAMX: Bool = true) throws(TensorError) {
        let threads = threadCount ?? ComputeContext.onlineCPUs
        guard threads >= 1 else { throw .invalidArgument("thread count must be at least 1, got \(threads)") }
        let path = kernelPath ?? .best
        guard path.isSupported else { throw .unsupported("kernel path \(path.rawValue) is not supported by this CPU") }
        self.threadCount = threads
        self.kernelPath = path
        self.blas = try BLAS.shared()
        self.requestedPrecision = precision
        self.precision = precision.isSupported ? precision : .fp32
        self.workspaces = WorkspacePool()
        self.usesAMX = self.precision == .bf16 && allowAMX && tk_bf16_amx_supported() != 0
    }

    /// Whether this CPU has AMX-BF16 and the OS lets this process use the tiles.
    public static var hasAMXBF16: Bool { tk_bf16_amx_supported() != 0 }

    /// Number of online CPUs.
    public static var onlineCPUs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Runs `body(i)` for i in 0..<count, spread over up to `threadCount` workers in contiguous
    /// chunks; returns when all are done. `body` must only write disjoint memory per index.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let workers = min(threadCount, count)
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = count * w / workers, hi = count * (w + 1) / workers
                for i in lo..<hi { box.value(i) }
            }
        }
    }

    /// Runs `body(worker, range)` once per worker over contiguous ranges splitting 0..<count.
    public func parallelChunks(_ count: Int, _ body: (Int, Range<Int>) -> Void) {
        if count <= 0 { return }
        let workers = min(threadCount, count)
        if workers == 1 {
            body(0, 0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                box.value(w, (count * w / workers)..<(count * (w + 1) / workers))
            }
        }
    }
}
