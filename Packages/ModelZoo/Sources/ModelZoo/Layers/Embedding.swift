import TensorKit

/// `torch.nn.Embedding`: a `[vocab, dim]` table kept in its stored dtype, or, in a folder saved
/// quantized by mflux, in MLX's affine quantization (rows dequantized as they are looked up).
public struct Embedding: Sendable {
    /// The dense table `[vocab, dim]` (empty when ``quantized`` is set).
    public let table: Tensor
    /// The stored quantized table, if any.
    public let quantized: QuantizedMatrix?
    /// Rows.
    public let vocabSize: Int
    /// Columns.
    public let dim: Int

    /// Loads `<name>.weight` `[vocab, dim]`, or the quantized triple when the layer is stored
    /// quantized; with `-q` (the loader's ``WeightQuantization``) a dense table whose width is a
    /// multiple of the group size is quantized as it loads, as mflux quantizes embeddings.
    public init(_ scope: WeightScope, _ name: String, vocab: Int, dim: Int) throws(ModelError) {
        vocabSize = vocab
        self.dim = dim
        let stored = try scope.storedQuantized(name, rows: vocab, columns: dim)
        if stored.stored {
            quantized = stored.matrix
            table = Tensor(zeros: [vocab, 0])
        } else {
            let weight = try scope.tensor(name + ".weight", shape: [vocab, dim])
            quantized = try scope.quantizedOnTheFly(weight, name)
            table = quantized == nil ? weight : Tensor(zeros: [vocab, 0])
        }
    }

    /// The rows of `ids`, `[ids.count, dim]` float32. Throws on an id outside the vocabulary.
    public func callAsFunction(_ ids: [Int], _ ctx: ComputeContext) throws(TensorError) -> Tensor {
        if let quantized { return try quantized.dequantizedRows(ids, context: ctx) }
        return try ctx.embedding(Tensor(shape: [ids.count], scalars: ids.map(Int64.init), dtype: .int64), table: table)
    }
}
