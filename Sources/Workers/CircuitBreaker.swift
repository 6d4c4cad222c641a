import Foundation

/// When a queue's handler keeps failing, stop claiming that queue for a while instead of burning
/// every job's attempts against a service that is down.
public struct CircuitBreakerPolicy: Sendable, Equatable {
    /// Consecutive retryable failures that open the breaker.
    public var failureThreshold: Int
    /// How long claiming stops before one probe job is tried.
    public var coolDown: TimeInterval

    public init(failureThreshold: Int = 5, coolDown: TimeInterval = 30) {
        self.failureThreshold = max(1, failureThreshold)
        self.coolDown = max(0, coolDown)
    }
}

/// The per-queue breaker as a value type: methods return what changed, the pool does the I/O
/// (writing circuit_breakers), so the state machine is tested without a database.
///
/// Only retryable failures count (a service that is down); a non-retryable failure such as
/// invalid_payload or http_4xx says the job is bad, not the service, and neither counts nor resets.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed
        case open(until: Date)
        /// One probe job may run; `probing` while it is claimed.
        case halfOpen(probing: Bool)

        /// The name stored in circuit_breakers.state.
        public var name: String {
            switch self {
            case .closed: return "closed"
            case .open: return "open"
            case .halfOpen: return "half_open"
            }
        }
    }

    public enum Permission: Sendable, Equatable { case claim, probeOne, none }

    public let policy: CircuitBreakerPolicy
    public private(set) var state: State = .closed
    public private(set) var consecutiveFailures = 0

    public init(policy: CircuitBreakerPolicy) { self.policy = policy }

    /// What the fetcher may claim now. Moves open -> half-open once the cool-down is over.
    public mutating func permission(now: Date) -> Permission {
        switch state {
        case .closed: return .claim
        case let .open(until):
            guard now >= until else { return .none }
            state = .halfOpen(probing: false)
            return .probeOne
        case let .halfOpen(probing): return probing ? .none : .probeOne
        }
    }

    public mutating func probeClaimed() {
        if case .halfOpen = state { state = .halfOpen(probing: true) }
    }

    /// A probe claim found nothing to run: let the next fetch try again.
    public mutating func probeFoundNothing() {
        if case .halfOpen = state { state = .halfOpen(probing: false) }
    }

    /// Records a handler result; returns true when the state changed (write it to the database).
    public mutating func record(success: Bool, retryable: Bool, now: Date) -> Bool {
        let before = state
        if success {
            consecutiveFailures = 0
            if case .halfOpen = state { state = .closed }
        } else if retryable {
            consecutiveFailures += 1
            switch state {
            case .closed where consecutiveFailures >= policy.failureThreshold,
                 .halfOpen:
                state = .open(until: now.addingTimeInterval(policy.coolDown))
            default: break
            }
        }
        return before.name != state.name
    }

    /// Adopts what another worker (or `run_queue_now`) stored: an open breaker elsewhere stops
    /// this worker too; an operator reset of an open breaker lets this worker probe now.
    public mutating func adopt(remoteState: String, reopenAt: Date?, now: Date) {
        switch (state, remoteState) {
        case (.closed, "open"):
            if let reopenAt, reopenAt > now { state = .open(until: reopenAt) }
        case (.open, "half_open"), (.open, "closed"):
            state = .halfOpen(probing: false)
        default: break
        }
    }

    public var reopenAt: Date? {
        if case let .open(until) = state { return until }
        return nil
    }
}
