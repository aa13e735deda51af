/// Why a schedule cannot be built (one line).
public enum SchedulerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The scheduler config is unreadable or uses an unsupported option.
    case invalidConfig(String)
    /// The request (step count, sigmas, mu) is not valid.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m), .invalidArgument(let m): return m
        }
    }
}
