import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop workers list|quiet|resume|drain` through the real binary, against a real
/// `queuetop worker` process. Serialized: each test runs worker processes, and the machine is small.
@Suite(.serialized) struct WorkersCLITests {
    typealias E = EngineCommandTests

    /// Jobs of `queue` that a `simulate` handler runs for `ms` milliseconds each.
    static func enqueue(_ conn: Connection, _ queue: String, count: Int, ms: Int) throws {
        let payload = #"{"latency_ms": {"p50": \#(ms), "p99": \#(ms)}}"#
        let jobs = (0..<count).map { _ in #"{"queue": "\#(queue)", "type": "simulate", "payload": \#(payload)}"# }
        _ = try conn.query("SELECT count(*) FROM enqueue_jobs(\(JSONText("[" + jobs.joined(separator: ",") + "]"))::jsonb)")
    }

    static func count(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar(Int.self) }

    static func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    /// A `queuetop worker` on `queue` with two slots; returns the process and its registry id.
    static func startWorker(_ db: TestDatabase, _ conn: Connection, queue: String, log: String) throws -> (Process, String) {
        let process = try QueuetopBinary.start(["worker", "--queues", queue, "--concurrency", "2", "--batch-size", "2"],
                                               environment: ["DATABASE_URL": db.conninfo], stderrLog: log)
        let pid = Int(process.processIdentifier)
        _ = eventually(timeout: 30) { ((try? count(conn, "SELECT count(*)::int FROM workers WHERE pid = \(pid)")) ?? 0) == 1 }
        let id: String = try conn.query("SELECT id FROM workers WHERE pid = \(pid)").scalar()
        return (process, id)
    }

    /// The audit rows of `action`: (filter as JSON text, affected).
    static func audits(_ conn: Connection, _ action: String) throws -> [(filter: String, affected: Int)] {
        try conn.query("SELECT filter::text, affected::int FROM audit_log WHERE action = \(action) ORDER BY id").map {
            (try $0.decode(0), try $0.decode(1))
        }
    }

    static func status(_ conn: Connection, _ queue: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try conn.query("SELECT status, count(*)::int FROM job_queue WHERE queue = \(queue) GROUP BY status") {
            out[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self)
        }
        return out
    }

    @Test func quietStopsClaimingResumeClaimsAgainDrainExitsAfterFinishing() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path)"); return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("qt-workerctl-\(UUID()).log").path
            // Two 3-second jobs fill both slots; the worker must finish them while quiet.
            try Self.enqueue(conn, "ctl", count: 2, ms: 3000)
            let (worker, id) = try Self.startWorker(db, conn, queue: "ctl", log: log)
            defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL); worker.waitUntilExit() } }
            #expect(Self.eventually(timeout: 20) { (try? Self.status(conn, "ctl"))?["processing"] == 2 }, "the worker took both jobs")

            let quiet = try E.queuetop(db, ["workers", "quiet", id])
            #expect(quiet.status == 0, "\(quiet.stderr)")
            #expect(quiet.stdout.contains("quieted worker \(id)"))
            #expect(try Self.audits(conn, "quiet_workers").map(\.affected) == [1])
            #expect(try Self.audits(conn, "quiet_workers").first?.filter.contains(id) == true)
            let list = try E.queuetop(db, ["workers", "list"])
            #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix(id + "\tquiet\t") }, "\(list.stdout)")

            // New work arrives while quiet: the two running jobs finish, the new ones wait.
            try Self.enqueue(conn, "ctl", count: 3, ms: 10)
            #expect(Self.eventually(timeout: 20) { (try? Self.status(conn, "ctl"))?["completed"] == 2 }, "the held jobs finished")
            Thread.sleep(forTimeInterval: 3)  // several heartbeats and polls: a claiming worker would have taken them
            #expect(try Self.status(conn, "ctl") == ["completed": 2, "pending": 3])
            #expect(worker.isRunning)

            let resume = try E.queuetop(db, ["workers", "resume", id])
            #expect(resume.status == 0, "\(resume.stderr)")
            #expect(resume.stdout.contains("resumed worker \(id)"))
            #expect(try Self.audits(conn, "resume_workers").map(\.affected) == [1])
            #expect(Self.eventually(timeout: 20) { (try? Self.status(conn, "ctl"))?["completed"] == 5 }, "claims again after resume")

            // Drain: a held job finishes, then the process exits 0 by itself.
            try Self.enqueue(conn, "ctl", count: 1, ms: 2000)
            #expect(Self.eventually(timeout: 20) { (try? Self.status(conn, "ctl"))?["processing"] == 1 })
            let drain = try E.queuetop(db, ["workers", "drain", "--host", try conn.query("SELECT host FROM workers WHERE id = \(id)").scalar(String.self)])
            #expect(drain.status == 0, "\(drain.stderr)")
            #expect(drain.stdout.contains("draining 1 worker on host"))
            #expect(Self.eventually(timeout: 30) { !worker.isRunning }, "the drained worker exited")
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 0)
            #expect(try Self.status(conn, "ctl") == ["completed": 6])
            #expect(try Self.audits(conn, "drain_workers").map(\.affected) == [1])
            #expect(try Self.count(conn, "SELECT count(*)::int FROM workers WHERE id = \(id) AND status = 'stopped'") == 1)

            // A stopped worker says so, and nothing is written.
            let again = try E.queuetop(db, ["workers", "quiet", id])
            #expect(again.status != 0)
            #expect(again.stderr.contains("is stopped"), "\(again.stderr)")
            #expect(try Self.audits(conn, "quiet_workers").count == 1)
        }
    }

    @Test func aBadWorkerIdOrHostSaysSoAndChangesNothingAndTargetsAreExplicit() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.query("SELECT register_worker('w-1', 'h', 1, NULL, 2)")
            for verb in ["quiet", "resume", "drain"] {
                let bad = try E.queuetop(db, ["workers", verb, "no-such-worker"])
                #expect(bad.status != 0)
                #expect(bad.stderr.contains(#"no worker "no-such-worker""#), "\(bad.stderr)")
                let host = try E.queuetop(db, ["workers", verb, "--host", "no-such-host"])
                #expect(host.status != 0)
                #expect(host.stderr.contains(#"no worker on host "no-such-host""#), "\(host.stderr)")
                let none = try E.queuetop(db, ["workers", verb])
                #expect(none.status != 0 && none.stderr.contains("--all"), "\(none.stderr)")
            }
            #expect(try Self.count(conn, "SELECT count(*)::int FROM audit_log WHERE action LIKE '%_workers'") == 0)
            #expect(try conn.query("SELECT status FROM workers WHERE id = 'w-1'").scalar(String.self) == "running")
            // resume on a running worker: nothing to do, said in words, audited with 0.
            let resume = try E.queuetop(db, ["workers", "resume", "w-1"])
            #expect(resume.status == 0)
            #expect(resume.stdout.contains("left as it was: it is running"), "\(resume.stdout)")
            let all = try E.queuetop(db, ["workers", "quiet", "--all"])
            #expect(all.stdout.contains("quieted 1 worker"), "\(all.stdout)")
            #expect(try Self.audits(conn, "quiet_workers").map(\.filter) == [#"{"all": true}"#])
            let json = try E.queuetop(db, ["workers", "list", "--json"])
            let rows = try #require(try E.json(json.stdout) as? [[String: Any]])
            #expect(rows.map { $0["status"] as? String } == ["quiet"])
            #expect(rows.first?["id"] as? String == "w-1")
        }
    }

    /// Claimed, not started: the count the worker's registry heartbeat reports (0024) is in
    /// both forms of `workers list`.
    @Test func workersListShowsHowManyHeldJobsHaveNotStarted() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.query("SELECT register_worker('w-b', 'h', 7, NULL, 10)")
            try conn.query("SELECT worker_heartbeat('w-b', 310, 300)")
            let list = try E.queuetop(db, ["workers", "list"])
            #expect(list.stdout.contains("\tin flight 310/10\tbuffered 300\t"), "\(list.stdout)")
            let json = try E.queuetop(db, ["workers", "list", "--json"])
            let rows = try #require(try E.json(json.stdout) as? [[String: Any]])
            #expect(rows.first?["buffered"] as? Int == 300)
            #expect(rows.first?["in_flight"] as? Int == 310)
        }
    }

    @Test func hostileWorkerIdsAndHostsArePrintedSafely() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let evil = OutputSafetyTests.evil
            try conn.query("SELECT register_worker(\(evil), \(evil), 7, ARRAY[\(evil)], 2)")
            let list = try E.queuetop(db, ["workers", "list"])
            #expect(list.status == 0)
            OutputSafetyTests.expectClean(list.stdout, "workers list")
            #expect(list.stdout.split(separator: "\n").count == 1, "one worker, one line: \(list.stdout.debugDescription)")
            let json = try E.queuetop(db, ["workers", "list", "--json"])
            OutputSafetyTests.expectClean(json.stdout, "workers list --json")
            #expect((try E.json(json.stdout) as? [[String: Any]])?.first?["id"] as? String == evil, "JSON keeps the id exact")
            let quiet = try E.queuetop(db, ["workers", "quiet", evil])
            #expect(quiet.status == 0, "\(quiet.stderr)")
            OutputSafetyTests.expectClean(quiet.stdout, "workers quiet")
            let bad = try E.queuetop(db, ["workers", "drain", evil + "x"])
            #expect(bad.status != 0)
            OutputSafetyTests.expectClean(bad.stderr, "workers drain (unknown)")
        }
    }
}
