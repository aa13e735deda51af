/// Zero padding of a 2-D convolution, per side (asymmetric padding allowed, as the VAE
/// encoder's `F.pad(x, (0, 1, 0, 1))` before its stride-2 convolutions).
public struct Padding2d: Sendable, Equatable {
    /// Zero rows added above, below; zero columns added left, right.
    public var top: Int, bottom: Int, left: Int, right: Int
    /// Padding per side.
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "negative padding")
        self.top = top; self.bottom = bottom; self.left = left; self.right = right
    }
    /// The same padding `p` on all four sides.
    public static func symmetric(_ p: Int) -> Padding2d { Padding2d(top: p, bottom: p, left: p, right: p) }
}
