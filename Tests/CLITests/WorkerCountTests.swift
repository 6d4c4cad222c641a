import Foundation
import Postgres
import TestSupport
import Testing

/// `queuetop status` (text and --json), `workers list` (text and --json), the dashboard footer
/// and the workers screen say the same number of running workers: the snapshot's worker_counts,
/// counted once in SQL over worker_registry (60_workers.sql); and status and the footer the
/// same jobs in flight (`HealthSnapshot.jobsInFlight`). Checked while a killed worker is still
/// 'lost', after the dead-worker sweep declared it 'dead', while a worker drains and after it
/// stopped.
@Suite("worker count agreement", .serialized)
struct WorkerCountTests {
    typealias W = WorkersCLITests

    static func binaryIsBuilt() -> Bool {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)")
            return false
        }
        return true
    }

    @Test func statusAndDashboardAgreeAfterAKillAndAfterBothStop() throws {
        guard Self.binaryIsBuilt() else { return }
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

    /// The same with real `queuetop worker` processes. The first holds two jobs when it is
    /// killed with SIGKILL, and no other worker runs to sweep it, so it stays 'lost' while
    /// everyone is asked; a second worker's sweep then declares it dead and takes its jobs back,
    /// and is drained while it runs them.
    @Test func realWorkersAgreeThroughAKillNineAndADrain() throws {
        guard Self.binaryIsBuilt() else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let logs = FileManager.default.temporaryDirectory.appendingPathComponent("qt-count-\(UUID())").path
            // Two 20 s jobs: both slots of the first worker, then of the second.
            try W.enqueue(conn, "agree", count: 2, ms: 20_000)
            let (victim, victimID) = try W.startWorker(db, conn, queue: "agree", log: logs + "-victim.log")
            defer { if victim.isRunning { kill(victim.processIdentifier, SIGKILL); victim.waitUntilExit() } }
            #expect(W.eventually(timeout: 20) {
                ((try? W.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing' AND locked_by = \(victimID)")) ?? 0) == 2
            }, "the first worker took both jobs")
            let tmux = try TmuxSession(width: 120, height: 40, environment: ["QT_BIN": QueuetopBinary.path, "QT_DB": db.conninfo])
            defer { tmux.close() }
            try tmux.launchDashboard("dash --no-workers --refresh 1")
            try tmux.keys("5")
            try expectEveryoneSays(running: 1, lost: 0, inFlight: 2, db: db, tmux: tmux)

            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            #expect(W.eventually(timeout: 60) {
                (try? conn.query("SELECT status FROM worker_registry WHERE id = \(victimID)").scalar(String.self)) == "lost"
            }, "silent for worker_silence_limit(): lost")
            // Its jobs are still held (processing) until a sweep hands them back: in flight.
            try expectEveryoneSays(running: 0, lost: 1, inFlight: 2, db: db, tmux: tmux)

            let (survivor, survivorID) = try W.startWorker(db, conn, queue: "agree", log: logs + "-survivor.log")
            defer { if survivor.isRunning { kill(survivor.processIdentifier, SIGKILL); survivor.waitUntilExit() } }
            #expect(W.eventually(timeout: 40) {
                ((try? W.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing' AND locked_by = \(survivorID)")) ?? 0) == 2
            }, "the second worker's sweep declared the first dead and it took the jobs back")
            #expect(try conn.query("SELECT status FROM worker_registry WHERE id = \(victimID)").scalar(String.self) == "dead")
            try expectEveryoneSays(running: 1, lost: 0, inFlight: 2, db: db, tmux: tmux)

            let drain = try QueuetopBinary.run(["workers", "drain", "--all", "--db", db.conninfo], timeout: 30)
            #expect(drain.status == 0, "\(drain.stderr)")
            #expect(W.eventually(timeout: 10) {
                (try? conn.query("SELECT status FROM worker_registry WHERE id = \(survivorID)").scalar(String.self)) == "draining"
            })
            // A draining worker still runs (it finishes what it holds).
            try expectEveryoneSays(running: 1, lost: 0, inFlight: 2, db: db, tmux: tmux)
            #expect(W.eventually(timeout: 60) { !survivor.isRunning }, "the drained worker exited")
            survivor.waitUntilExit()
            #expect(survivor.terminationStatus == 0)
            #expect(try W.status(conn, "agree") == ["completed": 2])
            try expectEveryoneSays(running: 0, lost: 0, inFlight: 0, db: db, tmux: tmux)

            try tmux.keys("Q")
            tmux.expectRestoredShell()
        }
    }

    private func expectEveryoneSays(running: Int, lost: Int, inFlight: Int = 0, db: TestDatabase, tmux: TmuxSession,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workers = running == 1 ? "1 worker" : "\(running) workers"
        let text = try QueuetopBinary.run(["status", "--db", db.conninfo], timeout: 30)
        #expect(text.status == 0, "\(text.stderr)", sourceLocation: sourceLocation)
        let headline = text.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(headline.contains("  \(workers)\(lost > 0 ? " (\(lost) lost)" : "")  \(inFlight) in flight"), "status: \(headline)",
                sourceLocation: sourceLocation)

        let json = try QueuetopBinary.run(["status", "--json", "--db", db.conninfo], timeout: 30)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let counts = try #require(top["worker_counts"] as? [String: Any])
        #expect(counts["live"] as? Int == running && counts["lost"] as? Int == lost, "status --json: \(counts)",
                sourceLocation: sourceLocation)

        // `workers list`: one line (one object) per worker; the live ones are running, quiet or draining.
        let live: Set<String> = ["running", "quiet", "draining"]
        let list = try QueuetopBinary.run(["workers", "list", "--db", db.conninfo], timeout: 30)
        let statuses = list.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: "\t")
            return fields.count > 2 ? String(fields[1]) : nil
        }
        #expect(statuses.filter(live.contains).count == running && statuses.filter { $0 == "lost" }.count == lost,
                "workers list: \(list.stdout)", sourceLocation: sourceLocation)
        let listJSON = try QueuetopBinary.run(["workers", "list", "--json", "--db", db.conninfo], timeout: 30)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [[String: Any]])
        let jsonStatuses = rows.compactMap { $0["status"] as? String }
        #expect(jsonStatuses.filter(live.contains).count == running && jsonStatuses.filter { $0 == "lost" }.count == lost,
                "workers list --json: \(listJSON.stdout)", sourceLocation: sourceLocation)

        let title = "Workers: \(running) running\(lost > 0 ? ", \(lost) lost" : "") ("
        let screen = tmux.waitFor(timeout: 20) { $0.contains(title) && $0.contains(" \(workers) · \(inFlight) in flight · ") }
        #expect(screen != nil, "dashboard: \(tmux.screen())", sourceLocation: sourceLocation)
    }
}
