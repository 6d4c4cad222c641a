import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop status` (text and --json), the dashboard footer and the workers screen say the same
/// number of running workers: the snapshot's worker_counts, counted once in SQL over
/// worker_registry (60_workers.sql). Checked while a killed worker is still 'lost', after the
/// dead-worker sweep declared it 'dead', and after the other one stopped too.
@Suite("worker count agreement", .serialized)
struct WorkerCountTests {
    @Test func statusAndDashboardAgreeAfterAKillAndAfterBothStop() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)")
            return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // Two registered workers, as `queuetop worker` registers itself.
            try conn.execute("SELECT register_worker('w-killed', 'host-a', 101, '{mail}', 4)")
            try conn.execute("SELECT register_worker('w-alive', 'host-b', 202, '{mail}', 4)")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers --refresh 1")
            try tmux.keys("5")

            // kill -9 leaves the row as it was: silent from then on.
            try conn.execute("UPDATE workers SET last_seen = now() - interval '40 seconds' WHERE id = 'w-killed'")
            try expectEveryoneSays(running: 1, lost: 1, db: db, tmux: tmux)

            // The sweep a live worker runs every 10 s hands its jobs back and declares it dead.
            _ = try conn.query("SELECT rescue_stale_jobs()").scalar(Int.self)
            #expect(try conn.query("SELECT status FROM worker_registry WHERE id = 'w-killed'").scalar(String.self) == "dead")
            try expectEveryoneSays(running: 1, lost: 0, db: db, tmux: tmux)

            try conn.execute("SELECT deregister_worker('w-alive')")
            try expectEveryoneSays(running: 0, lost: 0, db: db, tmux: tmux)

            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    private func expectEveryoneSays(running: Int, lost: Int, db: TestDatabase, tmux: TmuxSession,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workers = running == 1 ? "1 worker" : "\(running) workers"
        let text = try QueuetopBinary.run(["status", "--db", db.conninfo], timeout: 30)
        #expect(text.status == 0, "\(text.stderr)", sourceLocation: sourceLocation)
        let headline = text.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(headline.contains("  \(workers)\(lost > 0 ? " (\(lost) lost)" : "")  "), "status: \(headline)",
                sourceLocation: sourceLocation)

        let json = try QueuetopBinary.run(["status", "--json", "--db", db.conninfo], timeout: 30)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let counts = try #require(top["worker_counts"] as? [String: Any])
        #expect(counts["live"] as? Int == running && counts["lost"] as? Int == lost, "status --json: \(counts)",
                sourceLocation: sourceLocation)

        let title = "Workers: \(running) running\(lost > 0 ? ", \(lost) lost" : "") ("
        let screen = tmux.waitFor(timeout: 20) { $0.contains(title) && $0.contains(" \(workers) · ") }
        #expect(screen != nil, "dashboard: \(tmux.screen())", sourceLocation: sourceLocation)
    }
}
