/// A parsed JSON value. Objects keep their keys in file order; numbers keep their text so
/// integers can be read exactly.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// The number's literal text (validated JSON number syntax).
    case number(String)
    /// A string (escapes decoded).
    case string(String)
    /// An array.
    case array([JSONValue])
    /// Key/value pairs in file order (duplicate keys are rejected by the parser).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value for `key` of an object, else nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
        return nil
    }

    /// The string of a `.string`, else nil.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    /// The exact value of an integer literal (no fraction or exponent) that fits in `Int`, else nil.
    public var intValue: Int? {
        guard case .number(let text) = self, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        return Int(text)
    }

    /// The value of a number as Double, else nil.
    public var doubleValue: Double? { if case .number(let t) = self { return Double(t) }; return nil }

    /// The elements of an array, else nil.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }

    /// The pairs of an object, else nil.
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { return o }; return nil }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text of the value.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { JSONValue.string($0.0).description + ":" + $0.1.description }.joined(separator: ",") + "}"
        }
    }
}
