import CallbackManager

/// Why a model cannot be loaded or run (one line, naming the component and tensor).
public enum ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A config file is missing, unreadable, or describes something the code does not support.
    case invalidConfig(String)
    /// A tensor the model needs (with the shape it expects) is absent from the checkpoint.
    case missingTensor(component: String, name: String, shape: [Int])
    /// The checkpoint holds tensors the model neither uses nor declares unused.
    case unexpectedTensors(component: String, names: [String])
    /// A tensor's shape differs from what the config implies.
    case shapeMismatch(component: String, name: String, expected: [Int], actual: [Int])
    /// A tensor's dtype is not a float type mflux computes with.
    case unsupportedDType(component: String, name: String, dtype: String)
    /// The checkpoint files cannot be read.
    case checkpoint(String)
    /// An input (size, prompt, tensor shape) is not valid for the model.
    case invalidInput(String)
    /// The run was asked to stop (Ctrl-C, SIGTERM, a cancelled token) at `stage`, e.g.
    /// "after step 2/9"; `signal` is the signal number (0 when none).
    case cancelled(stage: String, signal: Int32)
    /// A callback (progress, stepwise images, ...) failed.
    case callback(String)

    /// ``CallbackManager/checkCancellation(_:)`` as a ModelError: `.cancelled` at `stage` when the
    /// run was asked to stop.
    static func checkCancellation(_ callbacks: CallbackManager, _ stage: @autoclosure () -> String) throws(ModelError) {
        do throws(GenerationCancelled) {
            try callbacks.checkCancellation(stage())
        } catch {
            throw .cancelled(stage: error.stage, signal: error.signal)
        }
    }

    public var description: String {
        switch self {
        case .invalidConfig(let m), .checkpoint(let m), .invalidInput(let m), .callback(let m): return m
        case let .cancelled(stage, _): return "interrupted \(stage); no image written for it"
        case let .missingTensor(c, n, shape): return "\(c): missing tensor \(n) (expected shape \(shape))"
        case let .unexpectedTensors(c, names):
            let shown = names.prefix(5).joined(separator: ", ")
            return "\(c): \(names.count) unexpected tensor(s): \(shown)\(names.count > 5 ? ", ..." : "")"
        case let .shapeMismatch(c, n, e, a): return "\(c): tensor \(n) has shape \(a), expected \(e)"
        case let .unsupportedDType(c, n, d): return "\(c): tensor \(n) has dtype \(d); expected F32, BF16 or F16"
        }
    }
}
