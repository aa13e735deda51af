import Foundation

/// `scheduler_config.json` of diffusers' `FlowMatchEulerDiscreteScheduler`. Every field is
/// optional in the file; the defaults are diffusers'. Options mflux does not implement
/// (Karras/exponential/beta sigmas, terminal shift, inverted sigmas, stochastic sampling) are
/// rejected by ``validate()``.
public struct FlowMatchEulerDiscreteSchedulerConfig: Codable, Sendable, Equatable {
    /// Training timesteps; `timesteps = sigmas · num_train_timesteps`.
    public var numTrainTimesteps: Int = 1000
    /// Static shift `σ' = shift·σ / (1 + (shift - 1)·σ)` (Z-Image-Turbo: 3).
    public var shift: Double = 1.0
    /// Shift with `mu` (FLUX.2) instead of the static `shift`.
    public var useDynamicShifting: Bool = false
    /// Base of diffusers' linear `mu` rule (unused by both pipelines' schedules).
    public var baseShift: Double? = 0.5
    /// Maximum of diffusers' linear `mu` rule.
    public var maxShift: Double? = 1.15
    /// Sequence length at `base_shift`.
    public var baseImageSeqLen: Int? = 256
    /// Sequence length at `max_shift`.
    public var maxImageSeqLen: Int? = 4096
    /// Unsupported (must be false).
    public var invertSigmas: Bool = false
    /// Unsupported (must be absent or 0).
    public var shiftTerminal: Double? = nil
    /// Unsupported (must be false).
    public var useKarrasSigmas: Bool? = false
    /// Unsupported (must be false).
    public var useExponentialSigmas: Bool? = false
    /// Unsupported (must be false).
    public var useBetaSigmas: Bool? = false
    /// Dynamic shift form: "exponential" `e^mu / (e^mu + 1/σ - 1)` or "linear" `mu / (mu + 1/σ - 1)`.
    public var timeShiftType: String = "exponential"
    /// Unsupported (must be false).
    public var stochasticSampling: Bool? = false

    enum CodingKeys: String, CodingKey {
        case numTrainTimesteps = "num_train_timesteps", shift, useDynamicShifting = "use_dynamic_shifting"
        case baseShift = "base_shift", maxShift = "max_shift", baseImageSeqLen = "base_image_seq_len"
        case maxImageSeqLen = "max_image_seq_len", invertSigmas = "invert_sigmas", shiftTerminal = "shift_terminal"
        case useKarrasSigmas = "use_karras_sigmas", useExponentialSigmas = "use_exponential_sigmas"
        case useBetaSigmas = "use_beta_sigmas", timeShiftType = "time_shift_type", stochasticSampling = "stochastic_sampling"
    }

    /// The defaults (diffusers' constructor defaults).
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FlowMatchEulerDiscreteSchedulerConfig()
        numTrainTimesteps = try c.decodeIfPresent(Int.self, forKey: .numTrainTimesteps) ?? d.numTrainTimesteps
        shift = try c.decodeIfPresent(Double.self, forKey: .shift) ?? d.shift
        useDynamicShifting = try c.decodeIfPresent(Bool.self, forKey: .useDynamicShifting) ?? d.useDynamicShifting
        baseShift = try c.decodeIfPresent(Double.self, forKey: .baseShift) ?? d.baseShift
        maxShift = try c.decodeIfPresent(Double.self, forKey: .maxShift) ?? d.maxShift
        baseImageSeqLen = try c.decodeIfPresent(Int.self, forKey: .baseImageSeqLen) ?? d.baseImageSeqLen
        maxImageSeqLen = try c.decodeIfPresent(Int.self, forKey: .maxImageSeqLen) ?? d.maxImageSeqLen
        invertSigmas = try c.decodeIfPresent(Bool.self, forKey: .invertSigmas) ?? d.invertSigmas
        shiftTerminal = try c.decodeIfPresent(Double.self, forKey: .shiftTerminal)
        useKarrasSigmas = try c.decodeIfPresent(Bool.self, forKey: .useKarrasSigmas) ?? d.useKarrasSigmas
        useExponentialSigmas = try c.decodeIfPresent(Bool.self, forKey: .useExponentialSigmas) ?? d.useExponentialSigmas
        useBetaSigmas = try c.decodeIfPresent(Bool.self, forKey: .useBetaSigmas) ?? d.useBetaSigmas
        timeShiftType = try c.decodeIfPresent(String.self, forKey: .timeShiftType) ?? d.timeShiftType
        stochasticSampling = try c.decodeIfPresent(Bool.self, forKey: .stochasticSampling) ?? d.stochasticSampling
    }

    /// Reads and validates `scheduler_config.json` at `path`.
    public static func load(path: String) throws(SchedulerError) -> FlowMatchEulerDiscreteSchedulerConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfig("\(path): cannot read the scheduler config")
        }
        let config: FlowMatchEulerDiscreteSchedulerConfig
        do {
            config = try JSONDecoder().decode(FlowMatchEulerDiscreteSchedulerConfig.self, from: data)
        } catch {
            throw .invalidConfig("\(path): invalid scheduler config: \(error)")
        }
        try config.validate()
        return config
    }

    /// Throws for options this implementation does not support.
    public func validate() throws(SchedulerError) {
        if numTrainTimesteps <= 0 { throw .invalidConfig("num_train_timesteps must be positive") }
        if !useDynamicShifting && !(shift > 0) { throw .invalidConfig("shift must be positive") }
        if !["exponential", "linear"].contains(timeShiftType) { throw .invalidConfig("unknown time_shift_type \(timeShiftType)") }
        for (on, name) in [(invertSigmas, "invert_sigmas"), (shiftTerminal != nil && shiftTerminal != 0, "shift_terminal"),
                           (useKarrasSigmas == true, "use_karras_sigmas"), (useExponentialSigmas == true, "use_exponential_sigmas"),
                           (useBetaSigmas == true, "use_beta_sigmas"), (stochasticSampling == true, "stochastic_sampling")] where on {
            throw .invalidConfig("scheduler option \(name) is not supported")
        }
    }
}
