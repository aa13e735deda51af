import TensorKit

/// One low-rank adapter on a linear layer, as PEFT runs it: `y += scale · B(A(x))` with
/// `A` `[rank, in]` (`lora_A` / `lora_down`), `B` `[out, rank]` (`lora_B` / `lora_up`) and
/// `scale = weight · alpha / rank` (the adapter's weight from `--lora-scales` / `set_adapters`).
/// Kept as a side path next to the stored (or quantized) weight: nothing of the model is copied
/// or re-rounded.
public struct LoRAAdapter: Sendable {
    /// `[rank, in]` (stored dtype).
    public let down: Tensor
    /// `[out, rank]` (stored dtype).
    public let up: Tensor
    /// `weight · alpha / rank`.
    public let scale: Float

    /// An adapter; `down` `[rank, in]`, `up` `[out, rank]`.
    public init(down: Tensor, up: Tensor, scale: Float) {
        self.down = down
        self.up = up
        self.scale = scale
    }

    /// Rank.
    public var rank: Int { down.shape[0] }

    /// `scale · B(A(x))`, `[..., out]` float32 (PEFT's order: both products, then the scale).
    public func delta(_ x: Tensor, _ ctx: ComputeContext) -> Tensor {
        let h = ctx.linear(ctx.linear(x, weight: down), weight: up)
        return ctx.scaleShift(h, scale: scale, shift: 0)
    }
}

/// The adapters of one or more LoRA files for a model component, by the diffusers name of the
/// linear layer each targets (e.g. `layers.0.attention.to_q`), in the order the files were given.
/// Layers take theirs as they load; ``finish()`` fails naming any adapter no layer took.
public final class LoRASet: @unchecked Sendable {
    // Audited: mutated only while one model loads, from the loading thread (as WeightLoader).
    private var adapters: [String: [LoRAAdapter]]
    private var taken: Set<String> = []
    /// Where the adapters come from, for messages.
    public let source: String

    /// Adapters by module name; `source` names the files in messages.
    public init(_ adapters: [String: [LoRAAdapter]], source: String) {
        self.adapters = adapters
        self.source = source
    }

    /// The modules targeted.
    public var modules: [String] { adapters.keys.sorted() }

    /// The adapters of the layer `module` `[out, in]`, checking their shapes.
    public func take(_ module: String, in inFeatures: Int, out outFeatures: Int) throws(ModelError) -> [LoRAAdapter] {
        guard let list = adapters[module] else { return [] }
        for a in list where a.down.rank != 2 || a.up.rank != 2 || a.down.shape[1] != inFeatures || a.up.shape[0] != outFeatures
            || a.up.shape[1] != a.down.shape[0] {
            throw .invalidInput("\(source): LoRA for \(module) is A \(a.down.shape), B \(a.up.shape); the layer is [\(outFeatures), \(inFeatures)]")
        }
        taken.insert(module)
        return list
    }

    /// Fails when an adapter matched no layer of the model.
    public func finish() throws(ModelError) {
        try check(against: Set(taken))
    }

    /// Fails when an adapter targets a layer outside `layers` (the model's linear layers), before
    /// anything is loaded.
    public func check(against layers: Set<String>) throws(ModelError) {
        let rest = modules.filter { !layers.contains($0) }
        guard rest.isEmpty else {
            let shown = rest.prefix(5).joined(separator: ", ")
            throw .invalidInput("\(source): \(rest.count) LoRA layer\(rest.count == 1 ? " matches" : "s match") nothing in the model: \(shown)\(rest.count > 5 ? ", ..." : "")")
        }
    }
}
