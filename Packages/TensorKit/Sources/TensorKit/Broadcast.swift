/// numpy-style broadcasting of two shapes.
public enum Broadcast {
    /// The broadcast shape of `a` and `b` (dimensions aligned from the right; each pair equal
    /// or one of them 1), or nil when they do not broadcast.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Element strides of `shape` seen through `outShape` (0 on broadcast dimensions).
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let r = outShape.count
        var strides = [Int](repeating: 0, count: r)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let oi = i + (r - shape.count)
            strides[oi] = shape[i] == 1 && outShape[oi] != 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }
}
