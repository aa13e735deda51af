import TensorKit

/// The text of `mflux --version`.
enum VersionReport {
    static let version = "0.1.0"

    /// Versions and machine facts recorded in image metadata.
    static func facts(_ ctx: ComputeContext) -> [String: String] {
        ["mflux_swift": version, "kernels": ctx.kernelPath.rawValue, "blas": "OpenBLAS \(ctx.blas.coreName)", "threads": String(ctx.threadCount)]
    }

    static func make() throws -> String {
        let ctx: ComputeContext
        do { ctx = try ComputeContext() } catch { throw CLIError(error.description) }
        let blas = ctx.blas
        let cpu = CPUInfo.current
        var features: [String] = []
        if cpu.hasAVX2 { features.append("avx2+fma") }
        if cpu.hasAVX512Core { features.append("avx512") }
        if cpu.hasAVX512BF16 { features.append("avx512_bf16") }
        if cpu.hasAVX512VNNI { features.append("avx512_vnni") }
        if ComputePrecision.bf16.isSupported && ComputeContext.hasAMXBF16 { features.append("amx_bf16 (used by --precision bf16)") }
        let coreSource: String
        if let user = blas.userCoreType {
            coreSource = "OPENBLAS_CORETYPE=\(user) from the environment"
        } else if blas.wasAlreadyLoaded {
            coreSource = "loaded before mflux could choose"
        } else if let chosen = blas.chosenCoreType {
            coreSource = "chosen from cpuid: OPENBLAS_CORETYPE=\(chosen)"
        } else {
            coreSource = "OpenBLAS's own detection"
        }
        var lines = [
            "mflux \(version)",
            "cpu: \(cpu.vendor) (\(features.isEmpty ? "baseline x86-64" : features.joined(separator: ", ")))",
            "blas: OpenBLAS core \(blas.coreName) (\(coreSource)), \(blas.libraryPath)",
            "kernels: \(ctx.kernelPath.rawValue) (supported: \(KernelPath.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")))",
            "threads: \(ctx.threadCount) TensorKit workers, OpenBLAS \(blas.openBLASThreads) per worker",
        ]
        if let w = blas.warning { lines.append(w) }
        return lines.joined(separator: "\n")
    }
}
