@testable import DashboardRuntime
import Dashboard
import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Queue detail's tenant report through the dashboard's database thread, on jobs enqueued the
/// way producers enqueue them (`enqueue_jobs` with a "tenant" and an "expires_at").
@Suite struct QueueTenantsEffectTests {
    let loaded: (Message) -> QueueTenantReport? = { if case .queueTenantsLoaded(let r) = $0 { r } else { nil } }
    let failed: (Message) -> String? = { if case .actionFailed(let t, _) = $0 { t } else { nil } }

    /// Enqueues `count` jobs of `tenant` (nil: no tenant key) on `queue`, with extra fields.
    static func enqueue(_ conn: Connection, _ queue: String, tenant: String?, _ count: Int,
                        priority: Int = 0, extra: [String: Any] = [:]) throws {
        let jobs = (0..<count).map { _ -> [String: Any] in
            var job: [String: Any] = ["queue": queue, "type": "send", "priority": priority]
            if let tenant { job["tenant"] = tenant }
            return job.merging(extra) { _, new in new }
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: jobs), as: UTF8.self)
        _ = try conn.query("SELECT count(*) FROM enqueue_jobs(\(JSONText(json))::jsonb)")
    }

    @Test func tenantsComeRankedByBacklogWithTheirCapsAndExpiredJobsAreCounted() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.enqueue(conn, "emails", tenant: "shop-b", 3)
            try Self.enqueue(conn, "emails", tenant: "shop-a", 5)
            try Self.enqueue(conn, "emails", tenant: "shop-c", 1)
            try Self.enqueue(conn, "emails", tenant: nil, 7)            // no tenant key: not a tenant
            try Self.enqueue(conn, "other", tenant: "shop-z", 9)        // another queue's tenant
            try Self.enqueue(conn, "emails", tenant: "shop-b", 1, priority: 10)
            let claimed = try JobStore(connection: conn).claim(worker: "w1", queues: ["emails"], max: 1)
            #expect(claimed.count == 1)  // shop-b's priority-10 job is now processing
            _ = try QueueConfigStore(connection: conn).update(
                "emails", settings: JSONText(#"{"tenant_concurrency_limit": 2, "tenant_rate_limit_per_s": 5}"#))

            let harness = RunnerHarness(db.config)
            let report = try #require(harness.post([.loadQueueTenants("emails")], until: loaded))
            #expect(report.queue == "emails")
            #expect(report.tenants.map(\.tenant) == ["shop-a", "shop-b", "shop-c"])
            #expect(report.tenants.map(\.pending) == [5, 3, 1])
            #expect(report.tenants.map(\.processing) == [0, 1, 0])
            #expect(report.tenants.allSatisfy { ($0.oldestPendingSeconds ?? -1) >= 0 })
            #expect(report.caps == TenantCaps(concurrencyLimit: 2, ratePerSecond: 5))
            #expect(report.expired == ExpiredCounts(lastHour: 0, last24h: 0))

            // Two of shop-c's jobs expire while pending: the expirer cancels them, they leave the
            // backlog and show in the expired counts.
            let soon = ISO8601DateFormatter().string(from: Date().addingTimeInterval(1))
            try Self.enqueue(conn, "emails", tenant: "shop-c", 2, extra: ["expires_at": soon])
            Thread.sleep(forTimeInterval: 1.5)
            _ = try conn.query("SELECT expire_jobs(1000)")
            let after = try #require(harness.post([.loadQueueTenants("emails")], until: loaded))
            #expect(after.expired == ExpiredCounts(lastHour: 2, last24h: 2))
            #expect(after.tenants.first { $0.tenant == "shop-c" }?.pending == 1)
            let cancelled: [String?] = try conn.query("SELECT cancel_reason FROM job_queue WHERE status = 'cancelled'").map { try $0.decode(0) }
            #expect(cancelled == ["expired", "expired"])
        }
    }

    @Test func aQueueWithoutTenantsReportsNoneAndAnUnknownQueueSaysSo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.enqueue(conn, "plain", tenant: nil, 2)
            let harness = RunnerHarness(db.config)
            let report = try #require(harness.post([.loadQueueTenants("plain")], until: loaded))
            #expect(report.tenants == [] && report.caps.isEmpty && report.expired == ExpiredCounts(lastHour: 0, last24h: 0))
            let text = harness.post([.loadQueueTenants("nope")], until: failed)
            #expect(text?.hasPrefix("cannot load the tenants of nope:") == true && text?.contains("unknown queue") == true)
        }
    }
}
