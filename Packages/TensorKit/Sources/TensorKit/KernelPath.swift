import CTensorKernels

/// Which build of the C element-wise kernels runs: all three are in every binary and chosen at
/// run time, so one binary runs on any x86-64 CPU.
public enum KernelPath: String, CaseIterable, Sendable {
    /// One lane at a time; runs anywhere.
    case scalar
    /// 8 lanes (AVX2 + FMA + F16C).
    case avx2
    /// 16 lanes (AVX-512 F/BW/DQ/VL).
    case avx512

    /// Whether this CPU (and OS) can run the path.
    public var isSupported: Bool { tk_path_supported(cValue) != 0 }

    /// The widest path this CPU supports.
    public static var best: KernelPath {
        if KernelPath.avx512.isSupported { return .avx512 }
        if KernelPath.avx2.isSupported { return .avx2 }
        return .scalar
    }

    var cValue: tk_kernel_path {
        switch self {
        case .scalar: return TK_PATH_SCALAR
        case .avx2: return TK_PATH_AVX2
        case .avx512: return TK_PATH_AVX512
        }
    }
}
