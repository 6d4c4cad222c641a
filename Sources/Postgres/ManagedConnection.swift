import Foundation

/// A connection that comes back: the one type every long-lived user of the database holds (each
/// worker-pool thread, the dashboard's database and LISTEN threads, an application's producer).
///
/// It connects on first use and runs `setup` on every new link (LISTEN, application_name, the
/// audit identity). When a call fails because the link is gone — a connection problem, or the
/// link no longer connected whatever the error — or because queuetop's objects are not in the
/// schema this link resolved (`meansSchemaMoved`: `queuetop migrate` moved the install while it
/// ran), the link is dropped and the next call reconnects, resolving the schema again.
///
/// Two ways to call it:
/// - `run(_:)` rethrows at once; the caller decides when to retry (the dashboard shows a banner
///   with its own delay).
/// - `run(stop:_:)` also backs off: it reports the failure (`Event.failed`, once per outage for a
///   lost link, every time for any other error), sleeps a jittered delay (cut short by `stop`)
///   and rethrows, so a loop simply tries again on its next turn; the first success after an
///   outage reports `Event.restored`.
public final class ManagedConnection: @unchecked Sendable {  // mutable state behind `lock`
    public enum Event: Sendable {
        case failed(any Error, retryIn: Double)
        case restored
    }

    public let config: ConnectionConfig
    private let setup: @Sendable (Connection) throws -> Void
    private let report: (@Sendable (Event) -> Void)?
    private let lock = NSLock()
    private var current: Connection?
    private var backoff: Backoff
    private var outage = false

    public init(config: ConnectionConfig, backoff: Backoff = Backoff(),
                setup: @escaping @Sendable (Connection) throws -> Void = { _ in },
                report: (@Sendable (Event) -> Void)? = nil) {
        self.config = config
        self.backoff = backoff
        self.report = report
        self.setup = setup
    }

    public var isConnected: Bool { lock.withLock { current?.isConnected ?? false } }

    /// Runs `body` on a live connection, connecting first if needed. Errors are rethrown, after
    /// the link is dropped when it is gone or the schema moved (see the type's comment).
    public func run<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try connection()
        do {
            return try body(connection)
        } catch {
            let pg = error as? PostgresError
            if pg?.isConnectionProblem == true || pg?.meansSchemaMoved == true || !connection.isConnected {
                drop(connection)
            }
            throw error
        }
    }

    /// `run(_:)`, backing off on failure before rethrowing (see the type's comment). A lost link
    /// counts as an outage: a connection problem, or any other error that left no live link.
    public func run<T>(stop: () -> Bool, _ body: (Connection) throws -> T) throws -> T {
        do {
            let value = try run(body)
            let restored = lock.withLock {
                defer { outage = false; backoff.reset() }
                return outage
            }
            if restored { report?(.restored) }
            return value
        } catch {
            let lost = (error as? PostgresError)?.isConnectionProblem ?? !isConnected
            let (delay, firstOfItsKind) = lock.withLock {
                defer { outage = outage || lost }
                return (backoff.next(), !outage || !lost)
            }
            if firstOfItsKind { report?(.failed(error, retryIn: delay)) }
            interruptibleSleep(delay, stop: stop)
            throw error
        }
    }

    /// The live connection, connecting (and running `setup`) if there is none. Also the way to
    /// connect eagerly, so that a wrong address fails a start instead of being retried.
    public func connection() throws -> Connection {
        if let c = lock.withLock({ current }), c.isConnected { return c }
        let fresh = try Connection.connect(config)
        do { try setup(fresh) } catch { fresh.close(); throw error }
        lock.withLock {
            current?.close()  // a link that went away by itself
            current = fresh
        }
        return fresh
    }

    /// Closes the link (only if it is still `connection`, when one is given); the next call
    /// reconnects.
    public func drop(_ connection: Connection? = nil) {
        lock.withLock {
            if connection == nil || current === connection { current?.close(); current = nil }
        }
    }
}
