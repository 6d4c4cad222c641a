@testable import DashboardRuntime
import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Every refresh brings the overview's alert hook line along: whether hooks exist and how the
/// latest delivery went, read from the real tables.
@Suite struct AlertHookSummaryEffectTests {
    let summary: (Message) -> AlertHookSummary? = { if case .alertHooksLoaded(let s) = $0 { s } else { nil } }

    @Test func refreshReportsNoHooksThenTheLatestDeliveryAttempt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let harness = RunnerHarness(db.config)
            let empty = harness.post([.refresh], until: summary)
            #expect(empty == AlertHookSummary(hookCount: 0, lastDelivery: nil))

            let hooks = AlertHookStore(connection: conn)
            _ = try hooks.add(name: "ops-slack", url: "https://hooks.example.com/T000")
            #expect(harness.post([.refresh], until: summary) == AlertHookSummary(hookCount: 1, lastDelivery: nil))

            // One notification, as sync_alert_states queues it, and two attempts at delivering it.
            _ = try conn.execute("""
                INSERT INTO alert_notifications (hook, alert_key, event, payload)
                VALUES ('ops-slack', 'emails:dlq_above_threshold', 'firing', '{}')
                """)
            let claimed = try hooks.claimNotifications()
            #expect(claimed.count == 1)
            try hooks.recordDelivery(id: claimed[0].id, ok: false, httpStatus: 503, error: "HTTP 503", durationMs: 40)
            let failed = try #require(harness.post([.refresh], until: summary)?.lastDelivery)
            #expect(failed.hook == "ops-slack" && failed.event == "firing" && failed.alertKey == "emails:dlq_above_threshold")
            #expect(!failed.ok && failed.httpStatus == 503 && failed.notificationStatus == "pending")

            _ = try conn.execute("UPDATE alert_notifications SET next_attempt_at = now()")
            let again = try hooks.claimNotifications()
            try hooks.recordDelivery(id: again[0].id, ok: true, httpStatus: 200, error: nil, durationMs: 12)
            let ok = try #require(harness.post([.refresh], until: summary))
            #expect(ok.hookCount == 1 && ok.lastDelivery?.ok == true && ok.lastDelivery?.attempt == 2)
            #expect(ok.lastDelivery?.notificationStatus == "delivered")
        }
    }
}
