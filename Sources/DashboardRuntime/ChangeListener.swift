import Foundation
import Postgres
import Synchronization

/// LISTENs on `queuetop_changed` (operator actions, breaker changes, bulk-operation progress)
/// on a connection of its own and calls `onChange` — at most once per `minimumGap` seconds, so
/// a busy system cannot cause a redraw storm: notifications arriving within the gap are folded
/// into one call at its end.
///
/// A lost connection is re-established with jittered backoff; after a reconnect `onChange`
/// fires once, because whatever changed while it was away was not announced to it.
///
/// Every new link checks that notifications really arrive (`Connection.listenChecked`): behind
/// a transaction pooler they never do. Then `onDelivery(false)` tells the dashboard (its footer
/// shows a marker) and `onChange` fires every `fallbackPoll` seconds instead.
public final class ChangeListener: Sendable {
    public static let channel = "queuetop_changed"

    private let database: ManagedConnection
    private let minimumGap: Double
    private let onChange: @Sendable () -> Void
    private let fallbackPoll: Double
    /// Whether the current link delivers notifications (true until a check says otherwise).
    private let delivering = DeliveryFlag()
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    public init(database config: ConnectionConfig, minimumGap: Double = 0.5, fallbackPoll: Double = 1,
                onDelivery: @escaping @Sendable (Bool) -> Void = { _ in },
                onChange: @escaping @Sendable () -> Void) {
        let delivering = self.delivering
        self.database = ManagedConnection(config: config) { connection in
            let works = try connection.listenChecked([ChangeListener.channel])
            if delivering.value.exchange(works, ordering: .sequentiallyConsistent) != works { onDelivery(works) }
        }
        self.minimumGap = minimumGap
        self.fallbackPoll = fallbackPoll
        self.onChange = onChange
    }

    public func start() {
        let thread = Thread { [self] in
            loop()
            database.drop()
            finished.signal()
        }
        thread.name = "queuetop-dashboard-listen"
        thread.start()
    }

    /// Ends the thread within about `minimumGap` (its longest wait).
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        _ = finished.wait(timeout: .now() + 10)
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    private func loop() {
        var lastFired = Date.distantPast
        var owed = false       // a change arrived during the gap and has not been reported yet
        var wasDown = false
        while !isStopping {
            do {
                let notifications = try database.run(stop: { isStopping }) { try $0.waitForNotifications(timeout: minimumGap) }
                if wasDown { owed = true; wasDown = false }
                if !notifications.isEmpty { owed = true }
                // Polling instead of notifications: a change may have happened any time.
                if !delivering.value.load(ordering: .sequentiallyConsistent)
                    && Date().timeIntervalSince(lastFired) >= fallbackPoll { owed = true }
            } catch {
                // Only connection problems reach here in practice; ManagedConnection has
                // dropped the link and backed off, and the next `run` reconnects.
                wasDown = true
                continue
            }
            let now = Date()
            if owed && now.timeIntervalSince(lastFired) >= minimumGap {
                owed = false
                lastFired = now
                onChange()
            }
        }
    }
}

/// Shared between the listener and its connection's setup closure.
private final class DeliveryFlag: Sendable {
    let value = Atomic<Bool>(true)
}
