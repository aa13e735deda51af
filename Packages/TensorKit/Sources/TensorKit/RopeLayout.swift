/// Which pairs of a head's dimensions a rotary embedding rotates together.
public enum RopeLayout: Sendable {
    /// Pairs `(2i, 2i+1)` (diffusers' DiTs: Z-Image's complex form, FLUX.2's repeat-interleaved form).
    case interleaved
    /// Pairs `(i, i + D/2)` (transformers' `rotate_half`, Qwen3).
    case rotateHalf
}
