import Dashboard
import Foundation
import QueueStore
import Testing

/// Messages the runtime feeds the reducer: change notifications, outages and their retry.
@Suite struct ReducerRuntimeTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func connected(on screen: Character? = nil) -> DashboardState {
        var s = DashboardState(now: t0)
        _ = reduce(&s, .disconnected(reason: "x", retryIn: 0, at: t0))
        s.connection = .connected
        s.lastRefreshAt = t0
        if let screen { _ = reduce(&s, .key(.character(screen))) }
        return s
    }

    @Test func aChangeNotificationReloadsWhatIsOnScreen() {
        var overview = connected()
        #expect(reduce(&overview, .changed(at: t0.addingTimeInterval(0.1))) == [.refresh])
        var dlq = connected(on: "3")
        #expect(reduce(&dlq, .changed(at: t0.addingTimeInterval(0.1))) == [.refresh, .loadDLQGroups])
        var audit = connected(on: "6")
        #expect(reduce(&audit, .changed(at: t0.addingTimeInterval(0.1))) == [.refresh, .loadAudit])
    }

    @Test func aChangeIsIgnoredWhileRefreshIsPausedOrTheDatabaseIsDown() {
        var paused = connected()
        _ = reduce(&paused, .key(.character("P")))
        #expect(reduce(&paused, .changed(at: t0.addingTimeInterval(1))) == [])
        var down = connected()
        _ = reduce(&down, .disconnected(reason: "connection refused", retryIn: 4, at: t0))
        #expect(reduce(&down, .changed(at: t0.addingTimeInterval(1))) == [])
    }

    @Test func anOutageRetriesWhenItsBackoffIsDueAndRecoveryClearsIt() throws {
        var s = connected()
        _ = reduce(&s, .disconnected(reason: "connection refused", retryIn: 4, at: t0))
        #expect(reduce(&s, .tick(t0.addingTimeInterval(3.9))) == [])
        #expect(reduce(&s, .tick(t0.addingTimeInterval(4))) == [.refresh])
        let snapshot = HealthSnapshot(generatedAt: t0, queues: [], alerts: [], errorTypes: [], workers: [],
                                      circuitBreakers: [], leadMigrations: [])
        _ = reduce(&s, .snapshotLoaded(snapshot, at: t0.addingTimeInterval(4.2)))
        #expect(s.connection == .connected)
        #expect(reduce(&s, .tick(t0.addingTimeInterval(5))) == [])
        #expect(reduce(&s, .tick(t0.addingTimeInterval(6.2))) == [.refresh])
    }
}

@Suite struct StatusSelectorTests {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// A snapshot with these workers (id, status, in-flight), decoded as the database sends it,
    /// with the registry's counts as queue_health_snapshot() computes them (live: running or
    /// draining and heard from; lost: silent, not yet declared dead).
    func snapshot(workers: [(String, String, Int)]) throws -> HealthSnapshot {
        let live = workers.filter { $0.1 == "running" || $0.1 == "draining" }.count
        let lost = workers.filter { $0.1 == "lost" }.count
        let rows = workers.map { w in
            #"{"id":"\#(w.0)","host":"h","pid":1,"queues":[],"concurrency":10,"in_flight":\#(w.2),"status":"\#(w.1)","started_at":"2026-11-18T00:00:00Z","last_seen":"2026-11-18T00:00:00Z"}"#
        }
        return try HealthSnapshot.decode(json: """
            {"generated_at":"2026-11-18T00:00:00Z","queues":[],"alerts":[],"error_types":[],"workers":[\(rows.joined(separator: ","))],"worker_counts":{"live":\(live),"lost":\(lost)},"circuit_breakers":[],"lead_migrations":[]}
            """)
    }

    @Test func theStatusLineCountsLiveWorkersOnly() throws {
        var s = DashboardState(now: t0)
        #expect(s.liveWorkerCount == 0 && s.secondsSinceRefresh == nil)
        let snapshot = try snapshot(workers: [("a", "running", 3), ("b", "draining", 2), ("c", "lost", 7), ("d", "stopped", 0)])
        _ = reduce(&s, .snapshotLoaded(snapshot, at: t0))
        #expect(s.liveWorkerCount == 2)
        _ = reduce(&s, .tick(t0.addingTimeInterval(3.4)))
        #expect(s.secondsSinceRefresh == 3)
    }

    @Test func theBannerCountsDownToTheRetry() {
        var s = DashboardState(now: t0)
        #expect(s.secondsUntilRetry == nil)
        _ = reduce(&s, .disconnected(reason: "connection refused", retryIn: 4.2, at: t0))
        #expect(s.secondsUntilRetry == 5)
        _ = reduce(&s, .tick(t0.addingTimeInterval(4)))
        #expect(s.secondsUntilRetry == 1)
        _ = reduce(&s, .tick(t0.addingTimeInterval(9)))
        #expect(s.secondsUntilRetry == 0)
    }
}
