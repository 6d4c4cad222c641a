import Dashboard
import Foundation
import Postgres
import QueueStore
import Synchronization

/// Runs a confirmed Jobs-screen bulk action on its own thread and its own connection, so the
/// database thread goes on refreshing the screen and answering keys while 100,000 jobs change in
/// batches. After each batch it posts `.bulkProgressed` (the footer's progress line); between
/// batches it asks whether the operator pressed Esc (`stop`); at the end it posts `.bulkEnded`
/// with what was done. One action at a time: the reducer refuses a second, and so does this.
final class BulkJobRunner: Sendable {
    private struct Running {
        var stopRequested = false
    }

    private let config: ConnectionConfig
    private let inbox: Inbox
    private let clock: @Sendable () -> Date
    private let running = Mutex<Running?>(nil)
    private let finished = Mutex<DispatchSemaphore?>(nil)

    init(config: ConnectionConfig, inbox: Inbox, clock: @escaping @Sendable () -> Date) {
        self.config = config
        self.inbox = inbox
        self.clock = clock
    }

    /// Starts the action; false (and nothing posted) when one is already running.
    @discardableResult
    func start(_ action: OperatorAction) -> Bool {
        let done = DispatchSemaphore(value: 0)
        let started = running.withLock { current -> Bool in
            guard current == nil else { return false }
            current = Running()
            return true
        }
        guard started else {
            inbox.post([.bulkEnded("another bulk action is still running: wait for it, or Esc to stop it", failed: true, at: clock())])
            return false
        }
        finished.withLock { $0 = done }
        let thread = Thread { [self] in
            let message = run(action)
            running.withLock { $0 = nil }
            inbox.post([message])
            done.signal()
        }
        thread.name = "queuetop-dashboard-bulk"
        thread.start()
        return true
    }

    /// Asks the running action to stop after the batch in flight; nothing when none runs.
    func stop() {
        running.withLock { $0?.stopRequested = true }
    }

    /// Stops the running action between batches and waits for it (at most `timeout` seconds):
    /// what is done stays done and its audit row says it was stopped.
    @discardableResult
    func stopAndWait(timeout: Double) -> Bool {
        stop()
        guard let done = finished.withLock({ $0 }) else { return true }
        let ok = done.wait(timeout: .now() + timeout) == .success
        if ok { done.signal() }  // leave it signalled for a later wait
        return ok
    }

    private var stopRequested: Bool { running.withLock { $0?.stopRequested ?? false } }

    private func run(_ action: OperatorAction) -> Message {
        let connection: Connection
        do {
            connection = try Connection.connect(config)
        } catch {
            return .bulkEnded("\(verb(action)) failed: cannot connect (\(error)); nothing was changed", failed: true, at: clock())
        }
        defer { connection.close() }
        do {
            let text = try ActionPerformer(connection: connection).performBulk(action, shouldStop: { stopRequested }) { progress in
                inbox.post([.bulkProgressed(progress)])
            }
            return .bulkEnded(text, failed: false, at: clock())
        } catch let interrupted as JobBulkInterrupted {
            return .bulkEnded(interrupted.description, failed: true, at: clock())
        } catch {
            // Before the first batch (the audit row could not be opened, a bad priority): nothing changed.
            return .bulkEnded("\(verb(action)) failed: \(error); nothing was changed", failed: true, at: clock())
        }
    }

    private func verb(_ action: OperatorAction) -> String { ActionPerformer.verb(action) }
}
