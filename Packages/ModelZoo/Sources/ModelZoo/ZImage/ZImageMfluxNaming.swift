/// Where mflux 0.24 names Z-Image-Turbo's transformer tensors differently from diffusers
/// (`mflux/models/z_image/weights/z_image_weight_mapping.py`; `Docs/MfluxFormat.md` §3).
extension ZImageTransformer2DModel {
    /// diffusers ↔ mflux names of the transformer.
    public static let mfluxNaming = MfluxNaming(rules: [
        .init("t_embedder.mlp.0", "t_embedder.linear1"),
        .init("t_embedder.mlp.2", "t_embedder.linear2"),
        .init("all_final_layer.*.adaLN_modulation.1", "all_final_layer.*.adaLN_modulation.0"),
    ])
}
