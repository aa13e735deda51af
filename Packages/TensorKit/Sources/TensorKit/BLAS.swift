import CTensorKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// OpenBLAS, loaded at first use with the kernel core type chosen from cpuid.
///
/// Debian's OpenBLAS picks its kernels from the CPU *model* in its library constructor; on CPUs it
/// does not know it falls back to generic SSE3 kernels (7x slower). TensorKit therefore never
/// links OpenBLAS: it chooses `OPENBLAS_CORETYPE` from the CPU's features (unless the user set
/// it), then `dlopen`s the library. If another part of the process had already loaded OpenBLAS,
/// the choice is impossible and ``warning`` says so in one line.
///
/// TensorKit runs OpenBLAS single-threaded and splits GEMMs over its own threads (see
/// ``ComputeContext``), so OpenBLAS threads never run inside TensorKit's parallel loops.
public struct BLAS: Sendable {
    /// The `OPENBLAS_CORETYPE` TensorKit chose for this CPU (nil: leave it to the library).
    public let chosenCoreType: String?
    /// The user's own `OPENBLAS_CORETYPE` at load time, if any (always respected).
    public let userCoreType: String?
    /// `openblas_get_corename()` of the loaded library: the kernels that actually run.
    public let coreName: String
    /// `openblas_get_config()`.
    public let config: String
    /// Path of the loaded shared library.
    public let libraryPath: String
    /// Whether OpenBLAS was already in the process before TensorKit loaded it.
    public let wasAlreadyLoaded: Bool
    /// Whether the library exports `cblas_sbgemm` (Debian's 0.3.21 does not).
    public let hasSBGEMM: Bool
    /// One line for the user when the kernels in use are slower than this CPU allows, else nil.
    public let warning: String?

    /// The process-wide OpenBLAS, loaded on first access. Throws ``TensorError/unsupported(_:)``
    /// when OpenBLAS cannot be loaded.
    public static func shared() throws(TensorError) -> BLAS {
        switch loaded {
        case .success(let b): return b
        case .failure(let e): throw e
        }
    }

    private static let loaded: Result<BLAS, TensorError> = load()

    private static func load() -> Result<BLAS, TensorError> {
        let cpu = CPUInfo.current
        let user = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        let chosen = user == nil ? preferredCoreType(for: cpu) : nil
        var already: Int32 = 0
        var err = [CChar](repeating: 0, count: 512)
        let status = tk_blas_load(chosen, &already, &err, err.count)
        guard status == 0 else {
            let msg = String(decoding: err.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(.unsupported(msg))
        }
        // TensorKit owns the threads: OpenBLAS runs single-threaded inside them.
        tk_blas_set_num_threads(1)
        let core = String(cString: tk_blas_corename())
        var warning: String?
        if !isCoreAdequate(core, for: cpu) {
            let best = preferredCoreType(for: cpu) ?? "Haswell"
            if user != nil {
                warning = "warning: OPENBLAS_CORETYPE=\(user!) selects OpenBLAS kernels '\(core)', slower than this CPU allows (try OPENBLAS_CORETYPE=\(best))"
            } else {
                warning = "warning: OpenBLAS runs its generic '\(core)' kernels (it was loaded before TensorKit could choose); set OPENBLAS_CORETYPE=\(best) before starting the program"
            }
        }
        return .success(BLAS(
            chosenCoreType: chosen, userCoreType: user, coreName: core,
            config: String(cString: tk_blas_config()), libraryPath: String(cString: tk_blas_path()),
            wasAlreadyLoaded: already != 0, hasSBGEMM: tk_blas_has_sbgemm() != 0, warning: warning))
    }

    /// The OpenBLAS core type whose kernels suit `cpu`: "SkylakeX" with AVX-512 (F/BW/DQ/VL),
    /// "Haswell" (Intel) or "Zen" (AMD) with AVX2 + FMA, nil otherwise.
    public static func preferredCoreType(for cpu: CPUInfo) -> String? {
        if cpu.hasAVX512Core { return "SkylakeX" }
        if cpu.hasAVX2 { return cpu.vendor == "AuthenticAMD" || cpu.vendor == "HygonGenuine" ? "Zen" : "Haswell" }
        return nil
    }

    /// Core names whose SGEMM kernels use AVX-512.
    public static let avx512CoreNames: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    /// Core names whose SGEMM kernels use at least AVX2 + FMA.
    public static let avx2CoreNames: Set<String> = avx512CoreNames.union(["haswell", "zen", "excavator", "steamroller"])

    /// Whether kernels named `core` use what `cpu` offers (AVX-512 on an AVX-512 CPU, AVX2 on an
    /// AVX2 CPU); any core is adequate on an older CPU.
    public static func isCoreAdequate(_ core: String, for cpu: CPUInfo) -> Bool {
        let c = core.lowercased()
        if cpu.hasAVX512Core { return avx512CoreNames.contains(c) }
        if cpu.hasAVX2 { return avx2CoreNames.contains(c) }
        return true
    }

    /// Row-major SGEMM: `C = alpha * op(A) * op(B) + beta * C` with op(A) M x K, op(B) K x N.
    /// Runs on the calling thread (OpenBLAS is single-threaded here).
    @inline(__always)
    public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        tk_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                 b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets OpenBLAS's own thread count (only the GEMM benchmark uses this, to compare
    /// OpenBLAS's threading with TensorKit's; TensorKit itself keeps it at 1).
    public func setOpenBLASThreads(_ n: Int) { tk_blas_set_num_threads(Int32(n)) }

    /// OpenBLAS's own thread count.
    public var openBLASThreads: Int { Int(tk_blas_get_num_threads()) }
}
