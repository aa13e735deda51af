#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if os(Linux)
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// The process's peak resident memory.
public enum PeakMemory {
    /// Peak resident set size of this process in bytes (`getrusage`; 0 when unavailable).
    public static var bytes: Int {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF_WHO, &usage) == 0 else { return 0 }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024  // KiB on Linux
        #else
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// `bytes` as "1.23 GiB" / "456.7 MiB".
    public static func format(_ bytes: Int) -> String {
        let mib = Double(bytes) / 1_048_576
        return mib >= 1024 ? String(format2: mib / 1024, unit: "GiB") : String(format2: mib, unit: "MiB")
    }
}

extension String {
    /// `value` with two decimals and a unit.
    init(format2 value: Double, unit: String) {
        let scaled = (value * 100).rounded()
        let whole = Int(scaled) / 100, frac = abs(Int(scaled) % 100)
        self = "\(whole).\(frac < 10 ? "0" : "")\(frac) \(unit)"
    }
}

/// Seconds as "0.42 s", "12.3 s", "4 m 05 s".
func formatSeconds(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    if s < 10 { return String(format2: s, unit: "s") }
    if s < 60 { return "\(Int((s * 10).rounded()) / 10).\(Int((s * 10).rounded()) % 10) s" }
    let total = Int(s.rounded())
    let m = total / 60, sec = total % 60
    return m < 60 ? "\(m) m \(sec < 10 ? "0" : "")\(sec) s" : "\(m / 60) h \(m % 60 < 10 ? "0" : "")\(m % 60) m"
}
