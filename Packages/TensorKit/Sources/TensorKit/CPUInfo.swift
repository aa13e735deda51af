import CTensorKernels

/// The running CPU's vendor and the instruction-set features TensorKit cares about.
public struct CPUInfo: Sendable, Equatable {
    /// cpuid vendor string ("GenuineIntel", "AuthenticAMD", ...).
    public let vendor: String
    /// AVX2 + FMA with OS support for YMM state.
    public let hasAVX2: Bool
    /// AVX-512 Foundation with OS support for ZMM state.
    public let hasAVX512F: Bool
    /// AVX-512 F + BW + DQ + VL (what OpenBLAS's SkylakeX kernels need).
    public let hasAVX512Core: Bool
    /// AVX512_BF16 (`vdpbf16ps`).
    public let hasAVX512BF16: Bool
    /// AVX512_VNNI (int8 dot products).
    public let hasAVX512VNNI: Bool

    /// Reads the running CPU.
    public static var current: CPUInfo {
        let f = tk_cpu_features()
        var buf = [CChar](repeating: 0, count: 16)
        tk_cpu_vendor(&buf)
        let vendor = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let core = UInt32(TK_CPU_AVX512F | TK_CPU_AVX512BW | TK_CPU_AVX512DQ | TK_CPU_AVX512VL)
        return CPUInfo(
            vendor: vendor,
            hasAVX2: f & UInt32(TK_CPU_AVX2) != 0 && f & UInt32(TK_CPU_FMA) != 0,
            hasAVX512F: f & UInt32(TK_CPU_AVX512F) != 0,
            hasAVX512Core: f & core == core,
            hasAVX512BF16: f & UInt32(TK_CPU_AVX512BF16) != 0,
            hasAVX512VNNI: f & UInt32(TK_CPU_AVX512VNNI) != 0
        )
    }

    /// Creates a description of a CPU (used to test core-type choices for other CPUs).
    public init(vendor: String, hasAVX2: Bool, hasAVX512F: Bool, hasAVX512Core: Bool,
                hasAVX512BF16: Bool = false, hasAVX512VNNI: Bool = false) {
        self.vendor = vendor
        self.hasAVX2 = hasAVX2
        self.hasAVX512F = hasAVX512F
        self.hasAVX512Core = hasAVX512Core
        self.hasAVX512BF16 = hasAVX512BF16
        self.hasAVX512VNNI = hasAVX512VNNI
    }
}
