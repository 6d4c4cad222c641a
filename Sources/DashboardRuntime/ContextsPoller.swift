import Dashboard
import Foundation
import Postgres
import QueueStore
import Synchronization

/// Reads every context's health for the all view and the `:ctx` list: one thread and one
/// connection per context, each on its own schedule, so a slow or dead database delays only its
/// own row ("stale", then "disconnected") and never the others (docs/SCALING.md).
///
/// Read-only by construction: every read runs in a `BEGIN READ ONLY` transaction, so the
/// snapshot does not fold counters into a database the operator is only glancing at, and a
/// replica answers like a primary.
public final class ContextsPoller: Sendable {
    public struct Target: Sendable {
        public var name: String
        public var config: ConnectionConfig
        public init(name: String, config: ConnectionConfig) { self.name = name; self.config = config }
    }

    private let targets: [Target]
    private let interval: Double
    private let inbox: Inbox
    private let clock: @Sendable () -> Date
    private let stopped = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    /// - Parameters:
    ///   - interval: seconds between two reads of one context (after the previous one answered).
    public init(targets: [Target], interval: Double, inbox: Inbox, clock: @escaping @Sendable () -> Date = Date.init) {
        self.targets = targets
        self.interval = interval
        self.inbox = inbox
        self.clock = clock
    }

    public func start() {
        for target in targets {
            running.add(1, ordering: .sequentiallyConsistent)
            let thread = Thread { [self] in
                poll(target)
                running.subtract(1, ordering: .sequentiallyConsistent)
            }
            thread.name = "queuetop-context-\(target.name)"
            thread.start()
        }
    }

    /// Asks every thread to end; a thread blocked on a dead server ends when its read gives up
    /// (the liveness bound). Never waits: nothing the session does depends on it.
    public func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
    }

    private var isStopped: Bool { stopped.load(ordering: .sequentiallyConsistent) }

    private func poll(_ target: Target) {
        let database = ManagedConnection(config: target.config)
        var backoff = Backoff(initial: 1, maximum: 15)
        while !isStopped {
            var wait = interval
            do {
                let (snapshot, standby) = try database.run { conn in
                    try conn.readOnlyTransaction { c in
                        (try HealthStore(connection: c).snapshot().snapshot, try ServerRoleStore(connection: c).standby())
                    }
                }
                if isStopped { break }
                inbox.post([.contextRefreshed(target.name, snapshot, standby, at: clock())])
                backoff.reset()
            } catch {
                if isStopped { break }
                wait = backoff.next()
                inbox.post([.contextUnreachable(target.name, reason: "\(error)", at: clock())])
            }
            // Sleep in short steps so `stop` is honoured within a quarter second.
            let until = Date().addingTimeInterval(wait)
            while !isStopped, Date() < until { Thread.sleep(forTimeInterval: min(0.25, until.timeIntervalSinceNow)) }
        }
        database.drop()
    }
}
