/// Monotonic elapsed time.
struct Stopwatch {
    private var start = ContinuousClock.now

    /// Seconds since creation or the last ``restart()``.
    var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Starts again from now.
    mutating func restart() { start = ContinuousClock.now }
}
