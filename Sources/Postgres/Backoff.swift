import Foundation

/// Exponential backoff with jitter for reconnecting: 0.1 s, 0.2 s, 0.4 s … capped (default 5 s).
/// Jitter spreads many workers reconnecting to a restarted server over time.
public struct Backoff: Sendable {
    public let initial: Double
    public let maximum: Double
    public private(set) var attempt = 0

    public init(initial: Double = 0.1, maximum: Double = 5) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The next delay in seconds, in [d/2, d] where d doubles each time up to `maximum`.
    public mutating func next() -> Double {
        let base = min(maximum, initial * pow(2, Double(min(attempt, 30))))
        attempt += 1
        return base * Double.random(in: 0.5...1)
    }

    public mutating func reset() { attempt = 0 }
}

/// Sleeps up to `seconds`, returning early when `stop` says so (checked every 50 ms), so a
/// thread backing off never keeps a shutdown waiting.
public func interruptibleSleep(_ seconds: TimeInterval, stop: () -> Bool) {
    let deadline = Date().addingTimeInterval(seconds)
    while !stop() {
        let left = deadline.timeIntervalSinceNow
        if left <= 0 { return }
        usleep(useconds_t(min(left, 0.05) * 1_000_000))
    }
}
