/// Where mflux 0.24 names the VAEs' tensors differently from diffusers (`Docs/MfluxFormat.md`
/// §3): Z-Image's FLUX.1 VAE wraps its outer convolutions and norms one level deeper; FLUX.2's
/// drops the `.0` of the mid-block attention's output projection and does not store
/// `bn.num_batches_tracked`. Convolution weights are OHWI in mflux's files (handled by
/// ``MfluxFormatSource`` and the saver, not by names).
extension VAEVariant {
    /// diffusers ↔ mflux names of this VAE.
    public var mfluxNaming: MfluxNaming {
        switch self {
        case .flux1:
            return MfluxNaming(rules: [
                .init("encoder.conv_in", "encoder.conv_in.conv2d"),
                .init("encoder.conv_out", "encoder.conv_out.conv2d"),
                .init("encoder.conv_norm_out", "encoder.conv_norm_out.norm"),
                .init("decoder.conv_in", "decoder.conv_in.conv"),
                .init("decoder.conv_out", "decoder.conv_out.conv"),
                .init("decoder.conv_norm_out", "decoder.conv_norm_out.norm"),
            ])
        case .flux2:
            return MfluxNaming(rules: [
                .init("encoder.mid_block.attentions.0.to_out.0", "encoder.mid_block.attentions.0.to_out"),
                .init("decoder.mid_block.attentions.0.to_out.0", "decoder.mid_block.attentions.0.to_out"),
            ], notStored: ["bn.num_batches_tracked"])
        }
    }
}
