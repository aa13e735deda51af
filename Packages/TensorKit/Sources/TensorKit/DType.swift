/// Element type of a ``Tensor``.
///
/// Covers every dtype a safetensors file may hold. TensorKit computes in `float32`; `bfloat16` and
/// `float16` are storage types converted on the fly (``Tensor/toFloat32(context:)``), integer
/// types hold token ids and masks, `uint8` holds pixels.
public enum DType: String, CaseIterable, Sendable, Codable {
    /// Floating-point storage types (safetensors F64, F32, BF16, F16 and the 8-bit formats).
    case float64, float32, bfloat16, float16, float8E4M3, float8E5M2, float8E4M3FNUZ, float8E5M2FNUZ, float8E8M0
    /// Two float32 (real, imaginary).
    case complex64
    /// Integer and boolean types (ids, masks, pixels).
    case int64, int32, int16, int8, uint64, uint32, uint16, uint8, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64, .complex64: return 8
        case .float32, .int32, .uint32: return 4
        case .bfloat16, .float16, .int16, .uint16: return 2
        case .float8E4M3, .float8E5M2, .float8E4M3FNUZ, .float8E5M2FNUZ, .float8E8M0, .int8, .uint8, .bool: return 1
        }
    }

    /// The dtype's name in a safetensors header ("F32", "BF16", ...).
    public var safetensorsName: String {
        switch self {
        case .float64: return "F64"
        case .float32: return "F32"
        case .bfloat16: return "BF16"
        case .float16: return "F16"
        case .float8E4M3: return "F8_E4M3"
        case .float8E5M2: return "F8_E5M2"
        case .float8E4M3FNUZ: return "F8_E4M3FNUZ"
        case .float8E5M2FNUZ: return "F8_E5M2FNUZ"
        case .float8E8M0: return "F8_E8M0"
        case .complex64: return "C64"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint64: return "U64"
        case .uint32: return "U32"
        case .uint16: return "U16"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    /// The dtype named `name` in a safetensors header, or nil for an unknown name.
    public init?(safetensorsName name: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = match
    }

    /// Whether TensorKit converts this dtype to float32 for computing (f32, bf16, f16).
    public var isComputeFloat: Bool { self == .float32 || self == .bfloat16 || self == .float16 }
}
