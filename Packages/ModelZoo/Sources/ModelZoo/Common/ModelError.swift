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

    public var description: String {
        switch self {
        case .invalidConfig(let m), .checkpoint(let m), .invalidInput(let m): return m
        case let .missingTensor(c, n, shape): return "\(c): missing tensor \(n) (expected shape \(shape))"
        case let .unexpectedTensors(c, names):
            let shown = names.prefix(5).joined(separator: ", ")
            return "\(c): \(names.count) unexpected tensor(s): \(shown)\(names.count > 5 ? ", ..." : "")"
        case let .shapeMismatch(c, n, e, a): return "\(c): tensor \(n) has shape \(a), expected \(e)"
        case let .unsupportedDType(c, n, d): return "\(c): tensor \(n) has dtype \(d); expected F32, BF16 or F16"
        }
    }
}
