/// Where mflux 0.24 names FLUX.2-klein's transformer tensors differently from diffusers
/// (`mflux/models/flux2/weights/flux2_weight_mapping.py`; `Docs/MfluxFormat.md` §3).
extension Flux2Transformer2DModel {
    /// diffusers ↔ mflux names of the transformer.
    public static let mfluxNaming = MfluxNaming(rules: [
        .init("time_guidance_embed.timestep_embedder.linear_1", "time_guidance_embed.linear_1"),
        .init("time_guidance_embed.timestep_embedder.linear_2", "time_guidance_embed.linear_2"),
        .init("transformer_blocks.#.attn.to_out.0", "transformer_blocks.#.attn.to_out"),
    ])
}
