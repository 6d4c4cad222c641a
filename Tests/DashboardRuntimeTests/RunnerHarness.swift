@testable import DashboardRuntime
import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport

/// An `EffectRunner` on a test database, with the inbox collected for assertions. Waiting polls
/// with Thread.sleep: the runner is a real OS thread, so nothing here needs the cooperative pool.
final class RunnerHarness: @unchecked Sendable {  // `received` is touched only by the test's thread
    let inbox = Inbox(wake: {})
    let runner: EffectRunner
    private var received: [Message] = []

    init(_ config: ConnectionConfig, actor: String = "tester@testhost", readOnly: Bool = false) {
        runner = EffectRunner(database: config, actor: actor, readOnly: readOnly, inbox: inbox)
        runner.start()
    }

    deinit { runner.stop() }

    /// Posts effects and returns the first message `match` accepts (messages before it are kept
    /// for later calls), or nil after `timeout` seconds.
    func post<T>(_ effects: [Effect], timeout: Double = 20, until match: (Message) -> T?) -> T? {
        runner.post(effects)
        return wait(timeout: timeout, until: match)
    }

    func wait<T>(timeout: Double = 20, until match: (Message) -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            received += inbox.drain()
            if let i = received.firstIndex(where: { match($0) != nil }) {
                let found = match(received[i])
                received.removeSubrange(...i)
                return found
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }
}

/// Dead-letters `n` new jobs of `queue` with `type`. nil: a dead job without an error type —
/// fail_job always records one, so such rows only come from outside it (data imported from an
/// older queue, a manual UPDATE); triage must still handle them.
@discardableResult
func deadLetters(_ conn: Connection, _ n: Int, queue: String = "emails", type: String?) throws -> [UUID] {
    let ids = try JobStore(connection: conn).enqueue((0..<n).map { _ in NewJob(queue: queue, type: "send") }).map(\.id)
    try conn.query("SELECT fail_job(id, 'smtp down', \(type ?? "unknown"), NULL, false) FROM unnest(\(ids)::uuid[]) id")
    if type == nil { try conn.query("UPDATE job_queue SET error_type = NULL WHERE id = ANY(\(ids)::uuid[])") }
    return ids
}

func statuses(_ conn: Connection, _ ids: [UUID]) throws -> Set<String> {
    Set(try conn.query("SELECT status FROM job_queue WHERE id = ANY(\(ids)::uuid[])").map { try $0.decode("status") as String })
}
