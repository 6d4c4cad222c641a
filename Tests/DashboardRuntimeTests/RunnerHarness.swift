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
