import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Faults injected into the real dashboard in a real terminal (tmux): a dropped SSH session,
/// small and plain terminals, PostgreSQL going away, a slow link. docs/RELIABILITY.md records
/// the runs. Serialized: each runs a dashboard process, and the machine is small.
@Suite(.serialized) struct DashboardFaultTests {
    static func count(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar() }

    /// Polls `sql` (a count) until `condition` holds or `timeout` passes; returns the last value.
    @discardableResult
    static func poll(_ conn: Connection, _ sql: Query, timeout: Double, until condition: (Int) -> Bool) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var value = try count(conn, sql)
        while !condition(value), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            value = try count(conn, sql)
        }
        return value
    }

    /// SSH session dropped: SIGHUP while the embedded workers are busy. The terminal comes back,
    /// the process exits 0 within the grace, nothing is left processing, and a headless worker
    /// then finishes every job: nothing is lost.
    @Test func sighupWithBusyEmbeddedWorkersRestoresTheTerminalAndLosesNoJob() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let total = 300
            // ~300 ms a job on 4 slots: about 20 s of work, so the pool is mid-run at the hang-up.
            try conn.execute("""
                SELECT enqueue_job('hup', 'simulate', '{"latency_ms": {"p50": 300, "p99": 300}}'::jsonb)
                  FROM generate_series(1, \(total))
                """)
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            let grace = 5.0
            try tmux.launchDashboard("dash --concurrency 4 --grace \(Int(grace))")
            let busy = try Self.poll(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 30) { $0 >= 20 }
            #expect(busy >= 20, "the embedded workers were running jobs")
            let inFlight = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'")
            #expect(inFlight > 0, "jobs were in flight at the hang-up")

            guard let pid = tmux.foregroundChildPID() else {
                Issue.record("no dashboard process under the shell")
                return
            }
            kill(pid, SIGHUP)
            let seconds = tmux.expectRestoredShell(timeout: grace + 10)
            #expect(!tmux.alternateScreenOn)
            let processing = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'")
            #expect(processing == 0, "in-flight jobs finished or were released")
            let running = try Self.count(conn, "SELECT count(*)::int FROM workers WHERE status <> 'stopped'")
            #expect(running == 0, "the embedded pool deregistered")
            let doneAtHangup = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'")

            let log = FileManager.default.temporaryDirectory.appendingPathComponent("hup-\(UUID().uuidString).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }
            let worker = try QueuetopBinary.start(["worker", "--db", db.conninfo, "--concurrency", "32"], stderrLog: log)
            defer { if worker.isRunning { worker.terminate(); worker.waitUntilExit() } }
            let completed = try Self.poll(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'", timeout: 60) { $0 == total }
            #expect(completed == total, "every job completes once a worker runs")
            let other = try Self.count(conn, "SELECT count(*)::int FROM job_queue WHERE status <> 'completed'")
            #expect(other == 0)
            print("DASHFAULT | sighup | jobs \(total) | in flight \(inFlight) | completed before exit \(doneAtHangup) | exit after \(String(format: "%.1f", seconds)) s | lost \(total - completed) | stuck \(processing)")
        }
    }
}
