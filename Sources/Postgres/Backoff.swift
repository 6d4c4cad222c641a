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

/// A connection that comes back: `run` connects on first use, and after a connection problem
/// drops the broken link so that the next call reconnects. `setup` runs on every new link
/// (LISTEN, session settings). Callers decide when to retry, using `backoff`.
public final class ManagedConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Connection?
    public let config: ConnectionConfig
    private let setup: @Sendable (Connection) throws -> Void

    public init(config: ConnectionConfig, setup: @escaping @Sendable (Connection) throws -> Void = { _ in }) {
        self.config = config
        self.setup = setup
    }

    public var isConnected: Bool { lock.withLock { current?.isConnected ?? false } }

    /// Runs `body` on a live connection, connecting first if needed. Connection problems are
    /// rethrown after the broken link is dropped; so are errors saying queuetop's objects are
    /// not in the schema this link resolved (`meansSchemaMoved`), so that the next link finds
    /// them where a `queuetop migrate` moved them.
    public func run<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try connection()
        do {
            return try body(connection)
        } catch let error as PostgresError
                    where error.isConnectionProblem || error.meansSchemaMoved || !connection.isConnected {
            drop(connection)
            throw error
        }
    }

    /// The live connection, connecting (and running `setup`) if there is none.
    public func connection() throws -> Connection {
        if let c = lock.withLock({ current }), c.isConnected { return c }
        let fresh = try Connection.connect(config)
        do { try setup(fresh) } catch { fresh.close(); throw error }
        lock.withLock { current = fresh }
        return fresh
    }

    public func drop(_ connection: Connection? = nil) {
        lock.withLock {
            if connection == nil || current === connection { current?.close(); current = nil }
        }
    }
}
