import Dashboard
import Foundation
import QueueStore
import Testing

/// Queue detail's tenant report (and its per-type figures, PerTypeReadsTests) is loaded while
/// that screen is open and with every refresh of it, and never on another screen (ranking
/// tenants costs a query).
@Suite struct QueueTenantsKeyTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// Two queues in the snapshot, connected, refreshed at t0, on the overview.
    func connected() throws -> DashboardState {
        var s = DashboardState(now: t0)
        let queue = { (name: String) in
            #"{"name":"\#(name)","paused":false,"settings":{"concurrency_limit":null,"max_attempts":5,"rate_limit_per_s":null,"visibility_timeout_s":300,"backoff_base_s":2,"backoff_cap_s":600,"backoff_schedule_s":null,"dlq_alert_threshold":100,"oldest_pending_alert_s":600,"error_rate_alert":0.2},"counts":{"pending":3,"processing":0,"completed":0,"failed":0,"dead_letter":0,"cancelled":0},"oldest_pending_seconds":0,"last_hour":{"completed":0,"failed":0,"dead_lettered":0},"error_rate5m":null,"circuit":"closed","throughput_per_hour":[],"throughput_per_minute":[],"latency_ms":{"p50":null,"p95":null,"p99":null,"avg":null,"max":null,"samples":0,"relative_error":0.0488,"estimated":[]},"alerts":[]}"#
        }
        let snapshot = try HealthSnapshot.decode(json: """
            {"generated_at":"2026-11-18T00:00:00Z","queues":[\(queue("emails")),\(queue("sync"))],"alerts":[],"error_types":[],"workers":[],"worker_counts":{"live":0,"lost":0},"circuit_breakers":[],"lead_migrations":[]}
            """)
        _ = reduce(&s, .snapshotLoaded(snapshot, at: t0))
        return s
    }

    func report(_ queue: String, tenants: [String] = ["shop-a"]) -> QueueTenantReport {
        QueueTenantReport(queue: queue, caps: TenantCaps(concurrencyLimit: 2, ratePerSecond: nil),
                          tenants: tenants.map { TenantBacklog(tenant: $0, pending: 5, processing: 1, oldestPendingSeconds: 3) },
                          expired: ExpiredCounts(lastHour: 1, last24h: 2))
    }

    @Test func everyWayIntoQueueDetailLoadsTheTenantsOfThatQueue() throws {
        var enter = try connected()
        _ = reduce(&enter, .key(.down))
        #expect(reduce(&enter, .key(.enter)) == [.loadQueueTenants("sync"), .loadQueueTypes("sync")])
        #expect(enter.screen == .queue)

        var two = try connected()
        #expect(reduce(&two, .key(.character("2"))) == [.loadQueueTenants("emails"), .loadQueueTypes("emails")])

        var command = try connected()
        for c in ":queue sync" { _ = reduce(&command, .key(.character(c))) }
        #expect(reduce(&command, .key(.enter)) == [.loadQueueTenants("sync"), .loadQueueTypes("sync")])
    }

    @Test func everyRefreshOfQueueDetailReloadsThemAndNoOtherScreenDoes() throws {
        var s = try connected()
        _ = reduce(&s, .key(.character("2")))
        #expect(reduce(&s, .tick(t0.addingTimeInterval(2))) == [.refresh, .loadQueueTenants("emails"), .loadQueueTypes("emails")])
        #expect(reduce(&s, .changed(at: t0.addingTimeInterval(2.1))) == [.refresh, .loadQueueTenants("emails"), .loadQueueTypes("emails")])
        #expect(reduce(&s, .key(.control("r"))) == [.refresh, .loadQueueTenants("emails"), .loadQueueTypes("emails")])
        #expect(reduce(&s, .actionFinished("paused emails", at: t0)) == [.refresh, .loadQueueTenants("emails"), .loadQueueTypes("emails")])

        for screen in "134567" {
            var other = try connected()
            let opened = reduce(&other, .key(.character(screen)))
            var asked = opened + reduce(&other, .tick(t0.addingTimeInterval(2)))
            asked += reduce(&other, .changed(at: t0.addingTimeInterval(2.1))) + reduce(&other, .key(.control("r")))
            #expect(!asked.contains { if case .loadQueueTenants = $0 { true } else { false } }, "screen \(screen) asked \(asked)")
        }
    }

    @Test func onlyTheReportOfTheQueueOnScreenIsShown() throws {
        var s = try connected()
        _ = reduce(&s, .key(.character("2")))
        #expect(s.focusedQueueTenants == nil)  // loading
        _ = reduce(&s, .queueTenantsLoaded(report("emails")))
        #expect(s.focusedQueueTenants == report("emails"))
        // Back to the overview and into the other queue: the emails report must not show as sync's.
        _ = reduce(&s, .key(.escape))
        _ = reduce(&s, .key(.down))
        #expect(reduce(&s, .key(.enter)) == [.loadQueueTenants("sync"), .loadQueueTypes("sync")])
        #expect(s.focusedQueueTenants == nil)
        _ = reduce(&s, .queueTenantsLoaded(report("sync", tenants: [])))
        #expect(s.focusedQueueTenants?.queue == "sync" && s.focusedQueueTenants?.tenants == [])
        // A late answer for the queue left behind does not replace it on screen.
        _ = reduce(&s, .queueTenantsLoaded(report("emails")))
        #expect(s.focusedQueueTenants == nil)
    }
}
