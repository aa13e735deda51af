import SafetensorsIO
import TensorKit

/// Takes a component's tensors from a checkpoint by name, checking shapes and dtypes, and keeps
/// account of coverage: after loading, ``finish()`` fails unless every tensor of the checkpoint
/// was either taken or declared known-unused (shape-checked, never read, so it costs no memory).
///
/// Tensors stay in their stored dtype and memory-mapped. Use a loader from one thread while a
/// model is built.
public final class WeightLoader {
    /// The tensors.
    public let source: any TensorSource
    /// Name used in messages ("transformer", "vae", ...).
    public let component: String
    /// Quantize linear layers as they load (see ``WeightQuantization``).
    public var quantization: WeightQuantization?
    /// LoRA adapters the linear layers take as they load (by their full names).
    public var loras: LoRASet?
    private var accounted: Set<String> = []

    /// A loader over `source`.
    public init(source: any TensorSource, component: String) {
        self.source = source
        self.component = component
    }

    /// Opens the checkpoint in `folder` (single file or sharded). A component saved by mflux in
    /// its own format (its metadata has `quantization_level` or `mflux_version`) is read through
    /// ``MfluxFormatSource`` with `naming`, under diffusers names and layouts.
    public convenience init(folder: String, component: String, naming: MfluxNaming = .identical) throws(ModelError) {
        let source: any TensorSource
        do {
            source = try Checkpoint.open(folder)
        } catch {
            throw .checkpoint(error.description)
        }
        if MfluxNaming.isMfluxFormat(metadata: source.metadata) {
            self.init(source: try MfluxFormatSource(source, naming: naming), component: component)
        } else {
            self.init(source: source, component: component)
        }
    }

    /// Opens (and so validates: headers, offsets against the file sizes, shard index) the
    /// checkpoint of each of `components` under `modelPath`, so that a truncated or corrupt file
    /// is reported, naming it, before anything is loaded or computed. Reads no tensor data.
    public static func preflight(modelPath: String, components: [String]) throws(ModelError) {
        for c in components { _ = try WeightLoader(folder: modelPath + "/" + c, component: c) }
    }

    /// Checks, without reading data, that the checkpoint has the tensors in `expected` (name ->
    /// shape; a stored-quantized weight counts by its rows): a shard of another model is named
    /// before anything loads.
    public func expect(_ expected: [(String, [Int])]) throws(ModelError) {
        for (name, shape) in expected {
            guard let info = source.info(name) else {
                throw .checkpoint("\(source.path): not this model's \(component): no tensor \(name)")
            }
            let quantized = info.dtype == .uint32 && info.shape.first == shape.first
            guard info.shape == shape || quantized else {
                throw .checkpoint("\(source.path): not this model's \(component): \(name) is \(info.shape), expected \(shape)")
            }
        }
    }

    /// Builds a module from the checkpoint in `folder` with `make` (linear layers quantized as
    /// they load when `quantization` is given and the layer is not stored quantized), then checks
    /// that every tensor was used or declared unused (``finish()``) and that every LoRA adapter
    /// in `loras` found its layer. `naming` maps an mflux-saved component's names to diffusers'.
    public static func build<T>(folder: String, component: String, quantization: WeightQuantization? = nil,
                                naming: MfluxNaming = .identical, loras: LoRASet? = nil,
                                _ make: (WeightLoader) throws(ModelError) -> T) throws(ModelError) -> T {
        let loader = try WeightLoader(folder: folder, component: component, naming: naming)
        loader.quantization = quantization
        loader.loras = loras
        let module = try make(loader)
        try loader.finish()
        try loras?.finish()
        return module
    }

    /// The tensor `name` (full name) after checking it exists, is f32/bf16/f16 and has `shape`.
    public func tensor(_ name: String, shape: [Int]) throws(ModelError) -> Tensor {
        try check(name, shape: shape)
        accounted.insert(name)
        do {
            return try source.tensor(name)
        } catch {
            throw .checkpoint(error.description)
        }
    }

    /// The layer `name` (`<name>.weight` uint32, `<name>.scales`, `<name>.biases`) stored in MLX's
    /// affine quantization for a `[rows, columns]` weight, or nil when `<name>.scales` is absent
    /// (a dense layer). Bits and group size come from the stored shapes, as mflux infers them:
    /// `bits = words·32 / columns`, `group = columns / groups`.
    public func storedQuantized(_ name: String, rows: Int, columns: Int) throws(ModelError) -> QuantizedMatrix? {
        guard let (bits, group) = try storedQuantizedLayout(name, rows: rows, columns: columns) else { return nil }
        accounted.formUnion([name + ".weight", name + ".scales", name + ".biases"])
        do {
            return try QuantizedMatrix(packed: try source.tensor(name + ".weight"), scales: try source.tensor(name + ".scales"),
                                       biases: try source.tensor(name + ".biases"), bits: bits, groupSize: group)
        } catch let e as SafetensorsError {
            throw .checkpoint(e.description)
        } catch {
            throw .invalidInput("\(component): \(name): \(error)")
        }
    }

    /// Checks a stored quantized layer (see ``storedQuantized(_:rows:columns:)``) without reading
    /// it and declares its three tensors known-unused; false when the layer is not stored quantized.
    public func declareUnusedQuantized(_ name: String, rows: Int, columns: Int) throws(ModelError) -> Bool {
        guard try storedQuantizedLayout(name, rows: rows, columns: columns) != nil else { return false }
        accounted.formUnion([name + ".weight", name + ".scales", name + ".biases"])
        return true
    }

    /// The bits and group size of a stored quantized `[rows, columns]` layer, or nil when dense.
    private func storedQuantizedLayout(_ name: String, rows: Int, columns: Int) throws(ModelError) -> (Int, Int)? {
        guard let scales = source.info(name + ".scales") else { return nil }
        guard let packed = source.info(name + ".weight"), let biases = source.info(name + ".biases") else {
            throw .missingTensor(component: component, name: name + (source.info(name + ".weight") == nil ? ".weight" : ".biases"), shape: [rows])
        }
        let words = packed.shape.last ?? 0, groups = scales.shape.last ?? 0
        guard packed.dtype == .uint32, packed.shape.count == 2, packed.shape[0] == rows, words > 0, groups > 0,
              (words * 32) % columns == 0, columns % groups == 0 else {
            throw .invalidInput("\(component): quantized \(name).weight \(packed.dtype.safetensorsName) \(packed.shape) does not fit a [\(rows), \(columns)] layer")
        }
        let bits = words * 32 / columns, group = columns / groups
        guard QuantizedMatrix.supportedBits.contains(bits), [32, 64, 128].contains(group) else {
            throw .invalidInput("\(component): \(name) is stored with \(bits) bits in groups of \(group); supported: 3, 4, 5, 6 or 8 bits in groups of 32, 64 or 128")
        }
        for (suffix, info) in [(".scales", scales), (".biases", biases)] {
            guard info.dtype.isComputeFloat, info.shape == [rows, groups] else {
                throw .shapeMismatch(component: component, name: name + suffix, expected: [rows, groups], actual: info.shape)
            }
        }
        return (bits, group)
    }

    /// The names of the checkpoint's linear layers (every rank-2 `<name>.weight`, stored
    /// quantized or not), e.g. to resolve a LoRA file's layer names.
    public func linearModules() -> Set<String> {
        Set(source.tensorNames.compactMap { n in
            guard n.hasSuffix(".weight"), source.info(n)?.shape.count == 2 else { return nil }
            return String(n.dropLast(".weight".count))
        })
    }

    /// Whether the checkpoint has a tensor `name`.
    public func contains(_ name: String) -> Bool { source.info(name) != nil }

    /// Declares `name` known-unused after checking its shape (any dtype); it is never read.
    public func declareUnused(_ name: String, shape: [Int]) throws(ModelError) {
        try check(name, shape: shape, anyDType: true)
        accounted.insert(name)
    }

    private func check(_ name: String, shape: [Int], anyDType: Bool = false) throws(ModelError) {
        guard let info = source.info(name) else { throw .missingTensor(component: component, name: name, shape: shape) }
        guard anyDType || info.dtype.isComputeFloat else {
            throw .unsupportedDType(component: component, name: name, dtype: info.dtype.safetensorsName)
        }
        guard info.shape == shape else {
            throw .shapeMismatch(component: component, name: name, expected: shape, actual: info.shape)
        }
    }

    /// Fails with ``ModelError/unexpectedTensors(component:names:)`` when a tensor was neither
    /// taken nor declared unused.
    public func finish() throws(ModelError) {
        let rest = source.tensorNames.filter { !accounted.contains($0) }
        if !rest.isEmpty { throw .unexpectedTensors(component: component, names: rest) }
    }

    /// A view that prefixes names with `prefix` + ".".
    public func scope(_ prefix: String) -> WeightScope { WeightScope(loader: self, prefix: prefix) }
}

/// A ``WeightLoader`` seen through a name prefix (a module's place in the checkpoint).
public struct WeightScope {
    /// The loader.
    public let loader: WeightLoader
    /// The prefix (without the trailing dot; empty for the root).
    public let prefix: String
    /// When true, ``tensor(_:shape:)`` only checks and declares the tensor known-unused and
    /// returns an empty placeholder: building a module through such a scope validates the
    /// shapes of weights the model never uses (e.g. text-encoder layers past the deepest one
    /// needed) without reading them.
    public var checkOnly = false

    /// A scope over `loader` with `prefix`.
    public init(loader: WeightLoader, prefix: String, checkOnly: Bool = false) {
        self.loader = loader
        self.prefix = prefix
        self.checkOnly = checkOnly
    }

    /// The full name of `name` inside this scope.
    public func name(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    /// The tensor `name` of this scope with `shape` (see ``WeightLoader/tensor(_:shape:)``).
    public func tensor(_ name: String, shape: [Int]) throws(ModelError) -> Tensor {
        if checkOnly {
            try loader.declareUnused(self.name(name), shape: shape)
            return Tensor(zeros: [0])
        }
        return try loader.tensor(self.name(name), shape: shape)
    }

    /// A nested scope (inherits ``checkOnly``).
    public func scope(_ sub: String) -> WeightScope { WeightScope(loader: loader, prefix: name(sub), checkOnly: checkOnly) }

    /// The layer `name` (`[rows, columns]`) when it is stored quantized: `(true, matrix)` — in a
    /// check-only scope its three tensors are checked and declared unused, and the matrix is nil;
    /// `(false, nil)` for a dense layer.
    public func storedQuantized(_ name: String, rows: Int, columns: Int) throws(ModelError) -> (stored: Bool, matrix: QuantizedMatrix?) {
        let full = self.name(name)
        guard loader.contains(full + ".scales") else { return (false, nil) }
        if checkOnly { return (try loader.declareUnusedQuantized(full, rows: rows, columns: columns), nil) }
        return (true, try loader.storedQuantized(full, rows: rows, columns: columns))
    }

    /// `weight` quantized on the fly when the loader has a ``WeightQuantization`` and its width
    /// is a multiple of the group size (the mapped float pages are then let go); nil otherwise.
    public func quantizedOnTheFly(_ weight: Tensor, _ name: String) throws(ModelError) -> QuantizedMatrix? {
        guard let q = loader.quantization, !checkOnly, weight.rank == 2, weight.shape[1] % q.groupSize == 0 else { return nil }
        do {
            let m = try QuantizedMatrix.quantize(weight, bits: q.bits, groupSize: q.groupSize, context: q.context)
            weight.releaseResidentPages()
            return m
        } catch {
            throw .invalidInput("\(self.name(name)): \(error)")
        }
    }

    /// This scope in check-only mode.
    public func checkingOnly() -> WeightScope { WeightScope(loader: loader, prefix: prefix, checkOnly: true) }
}
