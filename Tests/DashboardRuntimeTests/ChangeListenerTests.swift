import DashboardRuntime
import Foundation
import Postgres
import QueueStore
import Synchronization
import TestSupport
import Testing

@Suite struct ChangeListenerTests {
    /// Fifty operator actions in a burst reach the dashboard as a couple of refresh requests,
    /// not fifty redraws.
    @Test func aBurstOfChangesIsCoalesced() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try seedDeadLetters(conn, 1, type: "x")
            let calls = Atomic<Int>(0)
            let listener = ChangeListener(database: db.config, minimumGap: 0.5) { calls.add(1, ordering: .relaxed) }
            listener.start()
            defer { listener.stop() }
            // Wait until the listener is LISTENing: a single change must get through.
            let deadline = Date().addingTimeInterval(20)
            while calls.load(ordering: .relaxed) == 0 && Date() < deadline {
                try conn.query("SELECT pg_notify('queuetop_changed', 'probe')")
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(calls.load(ordering: .relaxed) >= 1)
            Thread.sleep(forTimeInterval: 0.6)
            let before = calls.load(ordering: .relaxed)
            for _ in 0..<25 {
                try QueueConfigStore(connection: conn).pause("emails")
                try QueueConfigStore(connection: conn).resume("emails")
            }
            Thread.sleep(forTimeInterval: 1.2)
            let during = calls.load(ordering: .relaxed) - before
            #expect(during >= 1 && during <= 3, "50 notifications became \(during) refreshes")
        }
    }
}
