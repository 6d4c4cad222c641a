import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

// Nested in PoolTests so it inherits .serialized: it runs child processes whose ticks are timed
// by the wall clock, which should not compete with the other pool tests for 2 cores.
extension PoolTests {
/// Real `queuetop worker` processes ticking a 1-second schedule, driven by the real CLI.
@Suite("schedules ticked by worker processes")
struct ScheduleWorkerTests {
    /// The workers serve another queue: the scheduled jobs stay pending where the test counts them.
    func spawnWorker(_ db: TestDatabase, log: String) throws -> Process {
        try PoolFixture.spawnWorker(db, arguments: ["--queues", "elsewhere", "--concurrency", "1"], log: log)
    }

    func stop(_ workers: [Process]) {
        for w in workers { kill(w.processIdentifier, SIGTERM) }
        for w in workers {
            if !PoolFixture.eventually(timeout: 20, { !w.isRunning }) { kill(w.processIdentifier, SIGKILL) }
            w.waitUntilExit()
        }
    }

    func cli(_ db: TestDatabase, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try QueuetopBinary.run(arguments, environment: ["DATABASE_URL": db.conninfo])
    }

    /// The tick epochs of the schedule's jobs, from their dedup keys (schedule:<name>:<epoch>).
    func ticks(_ conn: Connection) throws -> [Int] {
        try conn.query("""
            SELECT split_part(dedup_key, ':', 3)::bigint AS t FROM job_queue
            WHERE queue = 'ticks' AND dedup_key NOT LIKE '%:now:%' ORDER BY 1
            """).map { try $0.decode("t") }
    }

    @Test func threeWorkersEnqueueExactlyOneJobPerTick() throws {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path); build it or set QUEUETOP_BIN")
            return
        }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-sched-\(UUID())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var workers = try (0..<3).map { try spawnWorker(db, log: dir.appendingPathComponent("w\($0).log").path) }
            defer { stop(workers) }
            #expect(try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM workers WHERE status = 'running'") == 3
            })

            let added = try cli(db, ["schedule", "add", "every-second", "* * * * * *", "ticks", "tick", "--payload", #"{"k":1}"#])
            #expect(added.status == 0, "\(added.stderr)")
            #expect(added.stdout.contains("every-second\tenabled\t* * * * * *\tticks/tick"))

            // Ten ticks or more, each enqueued exactly once though three processes race for it.
            #expect(try PoolFixture.eventually(timeout: 30) { try ticks(conn).count >= 11 })
            let disabled = try cli(db, ["schedule", "disable", "every-second"])
            #expect(disabled.status == 0 && disabled.stdout.contains("disabled"), "\(disabled.stderr)")
            let seen = try ticks(conn)
            #expect(seen.count >= 10)
            #expect(Set(seen).count == seen.count, "a tick was enqueued twice: \(seen)")
            #expect(seen.last! - seen.first! + 1 == seen.count, "a tick was skipped: \(seen)")
            #expect(try PoolFixture.count(conn, "SELECT missed_ticks::int FROM schedules") == 0)

            // Disabled: nothing more, though all three workers still run.
            Thread.sleep(forTimeInterval: 2.5)
            #expect(try ticks(conn).count == seen.count)

            // Run now: one job, audited.
            let run = try cli(db, ["schedule", "run", "every-second"])
            #expect(run.status == 0 && run.stdout.hasPrefix("enqueued job "), "\(run.stderr)")
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE dedup_key LIKE '%:now:%'") == 1)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM audit_log WHERE action = 'schedule.run'") == 1)

            // Downtime: every worker stops, ticks are missed, one worker comes back. The missed
            // ticks become ONE job, not a flood, and the schedule says how many were skipped.
            stop(workers)
            workers = []
            let enabled = try cli(db, ["schedule", "enable", "every-second"])
            #expect(enabled.status == 0, "\(enabled.stderr)")
            Thread.sleep(forTimeInterval: 4)
            let before = try ticks(conn).count
            workers = [try spawnWorker(db, log: dir.appendingPathComponent("back.log").path)]
            #expect(try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT missed_ticks::int FROM schedules") >= 3
            })
            let afterRestart = try ticks(conn)
            // The first job after the restart is the coalesced one; at most a tick or two more
            // have fired normally since.
            #expect(afterRestart.count - before <= 3, "missed ticks were replayed: \(afterRestart.suffix(8))")
            let list = try cli(db, ["schedule", "list", "--json"])
            #expect(list.status == 0 && list.stdout.contains("\"missed_ticks\""), "\(list.stderr)")
            let history = try conn.query("SELECT count(*)::int FROM audit_log WHERE action LIKE 'schedule.%'").scalar(Int.self)
            #expect(history == 4)  // add, disable, run, enable
        }
    }
}
}
