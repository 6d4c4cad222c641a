import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop job show|cancel` with short ids, on running jobs, and the job ↔ PostgreSQL link, as
/// a user runs them: the real binary against a real database.
@Suite struct JobCancelCLITests {
    typealias Output = EngineCommandTests.Output

    static func queuetop(_ db: TestDatabase, _ args: [String]) throws -> Output { try EngineCommandTests.queuetop(db, args) }

    /// A job claimed by worker `w-cli`: running, as far as the database knows.
    static func runningJob(_ conn: Connection) throws -> UUID {
        let jobs = JobStore(connection: conn)
        let id = try jobs.enqueue(NewJob(queue: "sync", type: "store")).id
        _ = try jobs.claim(worker: "w-cli", queues: ["sync"], max: 1)
        return id
    }

    @Test func showAndCancelTakeAShortIDAndSayWhenAPartIsAmbiguousOrMatchesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let ids = try jobs.enqueue([NewJob(queue: "sync", type: "store"), NewJob(queue: "sync", type: "store")]).map(\.id)
            let short = ShortJobID.of(ids[0])
            let shown = try Self.queuetop(db, ["job", "show", short])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("id        \(ids[0].uuidString.lowercased())"))
            // Dashes and upper case are fine; so is a prefix long enough to be unique.
            let text = ids[1].uuidString
            #expect(try Self.queuetop(db, ["job", "show", String(text.suffix(14))]).stdout.contains(text.lowercased()))
            // The clock prefix both share: ambiguous. Nothing matches: said so. Not hex: refused.
            let ambiguous = try Self.queuetop(db, ["job", "show", String(text.prefix(6))])
            #expect(ambiguous.status != 0 && ambiguous.stderr.contains("ambiguous: 2 jobs match"), "\(ambiguous.stderr)")
            let none = try Self.queuetop(db, ["job", "cancel", "ffffffffffff"])
            #expect(none.status != 0 && none.stderr.contains("no job matches 'ffffffffffff'"), "\(none.stderr)")
            let hostile = try Self.queuetop(db, ["job", "show", "\u{1b}[2Jbeef"])
            #expect(hostile.status != 0 && hostile.stderr.contains("is not a job id") && !hostile.stderr.contains("\u{1b}"))
            // Cancel by short id: the pending job is cancelled, one audit row.
            let cancelled = try Self.queuetop(db, ["job", "cancel", short])
            #expect(cancelled.status == 0 && cancelled.stdout == "cancelled \(ids[0].uuidString.lowercased())\n", "\(cancelled.stderr)")
            #expect(try EngineCommandTests.audits(conn, "job.cancel").count == 1)
        }
    }

    @Test func cancellingARunningJobSaysItIsBeingCancelledAndShowSaysSo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try Self.runningJob(conn)
            let cancel = try Self.queuetop(db, ["job", "cancel", ShortJobID.of(id)])
            #expect(cancel.status == 0, "\(cancel.stderr)")
            #expect(cancel.stdout == "cancelling \(id.uuidString.lowercased()): its worker is stopping the handler\n")
            let again = try Self.queuetop(db, ["job", "cancel", id.uuidString])
            #expect(again.status != 0 && again.stderr.contains("already being cancelled"), "\(again.stderr)")
            #expect(try EngineCommandTests.audits(conn, "job.cancel").count == 1)
            let show = try Self.queuetop(db, ["job", "show", id.uuidString])
            #expect(show.stdout.contains("status    processing (cancelling since "), "\(show.stdout)")
            let json = try #require(try EngineCommandTests.json(try Self.queuetop(db, ["job", "show", id.uuidString, "--json"]).stdout) as? [String: Any])
            #expect(json["cancel_requested_at"] is String)
        }
    }

    @Test func aRunningSQLJobShowsItsBackendToARoleThatMaySeeItAndSaysSoToOneThatMayNot() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try Self.runningJob(conn)
            // A backend that sleeps: the handler's, as the worker records it.
            let handler = try db.connect()
            defer { handler.close() }
            let pid = Int(handler.backendPID)
            try WorkerStore(connection: conn, workerID: "w-cli").recordHandlerBackends(ids: [JobID(id)], pids: [pid])
            let sleeper = Thread { _ = try? handler.query("SELECT pg_sleep(20)") }
            sleeper.start()
            defer { _ = try? conn.query("SELECT pg_cancel_backend(\(pid))") }
            #expect(try EngineCommandTests.int(conn, "SELECT count(*)::int FROM pg_stat_activity WHERE pid = \(pid)") == 1)
            var shown = ""
            let sawSleep = try WorkersCLITests.eventually(timeout: 10) {
                shown = try Self.queuetop(db, ["job", "show", id.uuidString]).stdout
                return shown.contains("wait Timeout: PgSleep")
            }
            #expect(sawSleep, "\(shown)")
            #expect(shown.contains("backend   pid \(pid) as "))
            let json = try #require(try EngineCommandTests.json(try Self.queuetop(db, ["job", "show", id.uuidString, "--json"]).stdout) as? [String: Any])
            let backend = try #require(json["backend"] as? [String: Any])
            #expect(backend["pid"] as? Int == pid && backend["visible"] as? Bool == true && backend["wait_event"] as? String == "PgSleep")

            // A viewer without pg_read_all_stats: told it may not see, not an error.
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let out = try QueuetopBinary.run(["job", "show", id.uuidString, "--db", try config.unredactedConninfo()])
                #expect(out.status == 0, "\(out.stderr)")
                #expect(out.stdout.contains("backend   pid \(pid) as ") && out.stdout.contains("not visible to this role"), "\(out.stdout)")
            }
        }
    }
}
