import ModelZoo
import SafetensorsIO
import TensorKit

/// An in-memory checkpoint of random weights, for benchmarks at real widths without a download:
/// every tensor a module asks for is created on first request (normal values, std 0.02, ones
/// for norm weights), in the requested storage dtype.
final class RandomWeights: TensorSource, @unchecked Sendable {
    // Audited: used from one thread while a model is built; never shared afterwards.
    let dtype: DType
    var made: [String: Tensor] = [:]
    var seed: UInt64 = 1
    init(dtype: DType) { self.dtype = dtype }
    var path: String { "random" }
    var tensorNames: [String] { made.keys.sorted() }
    var metadata: [String: String] { [:] }

    func info(_ name: String) -> TensorInfo? {
        made[name].map { TensorInfo(dtype: $0.dtype, shape: $0.shape, dataOffsets: 0..<$0.byteCount) }
    }

    func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        guard let t = made[name] else { throw .missingTensor(path: path, tensor: name) }
        return t
    }

    /// Creates `name` with `shape`.
    func make(_ name: String, shape: [Int], context: ComputeContext) {
        let n = shape.reduce(1, *)
        var v = [Float](repeating: 0, count: n)
        let isNorm = shape.count == 1 && name.hasSuffix("weight")
        for i in 0..<n {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 1000
            v[i] = isNorm ? 1 + 0.1 * u : 0.035 * u
        }
        made[name] = Tensor(shape: shape, floats: v).converted(to: dtype, context: context)
    }

    /// Builds a module with `make`, creating every tensor it asks for (with the shape it expects)
    /// until it builds.
    func build<M>(context: ComputeContext, _ make: (WeightLoader) throws(ModelError) -> M) throws(ModelError) -> M {
        while true {
            do throws(ModelError) {
                return try make(WeightLoader(source: self, component: "transformer"))
            } catch {
                guard case let .missingTensor(_, name, shape) = error else { throw error }
                self.make(name, shape: shape, context: context)
            }
        }
    }
}
