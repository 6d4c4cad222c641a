import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// Runs the real `queuetop worker` binary (TestSupport.QueuetopBinary: next to the test bundle,
/// or $QUEUETOP_BIN), kills it with SIGKILL mid-batch, restarts it, and checks that nothing was
/// lost: every job completes, and the ledger shows the only duplicates are jobs that were in
/// flight at the kill (the documented at-least-once window).
// Nested in PoolTests so it inherits .serialized: it runs a child process against the same
// server, and its timing assertions should not compete with the other pool tests for 2 cores.
extension PoolTests {
@Suite("killed worker process")
struct KilledWorkerTests {
    @Test func killNineLosesNothing() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "crash", type: "ledger", count: 400, extra: #","sleep_s":0.02"#)
            // A short visibility timeout so the killed worker's jobs are rescued within the test.
            // Rescue counts an attempt and backs off; keep that short too.
            try conn.query("SELECT update_queue_settings('crash', '{\"visibility_timeout_s\": 2, \"backoff_base_s\": 0}'::jsonb)")
            let (dir, config) = try PoolFixture.ledgerWorkerConfig()
            func spawnWorker(_ db: TestDatabase, config: String, log: String) throws -> Process {
                try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config, log: log)
            }

            let first = try spawnWorker(db, config: config, log: dir.appendingPathComponent("first.log").path)
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") >= 100
            })
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let inFlightAtKill = try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'")
            print("killed after \(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger")) runs; \(inFlightAtKill) in flight; \(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'")) completed")
            #expect(inFlightAtKill > 0)

            let second = try spawnWorker(db, config: config, log: dir.appendingPathComponent("second.log").path)
            let secondPID = Int(second.processIdentifier)
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM workers WHERE pid = \(secondPID) AND status = 'running'") == 1
            }, "the second worker registered")
            // Every job completed, and every job's handler ran (the ledger has its key).
            let allDone = try PoolFixture.eventually(timeout: 60) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 400
                    && PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == 400
            }
            let exited = PoolFixture.stopWorker(second)
            #expect(exited, "the worker did not stop on SIGTERM")
            #expect(allDone)
            #expect(second.terminationStatus == 0)
            #expect(try PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == 400)
            // Duplicates only inside the window: jobs held by the killed worker (claimed, running,
            // or finished but not yet committed).
            let duplicates = try PoolFixture.count(conn, "SELECT (count(*) - count(DISTINCT k))::int FROM ledger")
            #expect(duplicates <= 8 + 20)
            // The killed worker's rescued jobs count one attempt; the second worker deregistered.
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM workers WHERE status = 'stopped'") == 1)
        }
    }

    /// The same with the CLI's defaults (concurrency 10, batch 500) on fast jobs, where the
    /// worker claims ahead of its free slots: the jobs held in the prefetch buffer at the kill
    /// never ran, so they are not run twice; duplicates stay within the documented window
    /// (docs/WORKERS.md "The window": concurrency + 2 × max(batch, concurrency) = 10 + 1,000 at
    /// the defaults).
    @Test func killNineAtDefaultsDuplicatesNoMoreThanTheWindow() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            let total = 3000
            try PoolFixture.enqueue(conn, queue: "crash", type: "ledger", count: total, extra: #","sleep_s":0.005"#)
            try conn.query("SELECT update_queue_settings('crash', '{\"visibility_timeout_s\": 2, \"backoff_base_s\": 0}'::jsonb)")
            let (dir, config) = try PoolFixture.ledgerWorkerConfig()
            let first = try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config,
                                                    log: dir.appendingPathComponent("first.log").path, concurrency: nil, batch: nil)
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") >= 500
            })
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            // Held by the dead worker and never run: no ledger row (a handler cut off by the kill
            // rolled its row back, so at most the 10 running jobs are also counted here).
            let heldNotRun = try PoolFixture.count(conn, """
                SELECT count(*)::int FROM job_queue j WHERE j.status = 'processing'
                  AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.k = j.payload->>'k')
                """)
            let processing = try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'")
            print("at the kill: \(heldNotRun) held and not run, \(processing) processing")
            #expect(heldNotRun > 10, "the worker held more than its 10 handler slots: the buffer was in use")

            let second = try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config,
                                                     log: dir.appendingPathComponent("second.log").path, concurrency: nil, batch: nil)
            let allDone = try PoolFixture.eventually(timeout: 90) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == total
            }
            #expect(PoolFixture.stopWorker(second))
            #expect(allDone)
            #expect(try PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == total)
            let duplicates = try PoolFixture.count(conn, "SELECT (count(*) - count(DISTINCT k))::int FROM ledger")
            print("duplicates after kill -9 at the defaults: \(duplicates)")
            #expect(duplicates <= Self.defaultWindow)
        }
    }

    /// What a kill -9 can run twice at the defaults, at worst: `complete_jobs` is held up (the
    /// test holds a share lock on the rows the worker holds, as a slow or locked database would),
    /// so handled results pile up unwritten until running + unwritten fill the window, and no
    /// further. Only those can run again after the kill (fewer when the held write still
    /// commits after it).
    @Test func killNineWithWritesHeldUpRerunsAtMostTheWindow() throws {
        try killWithWritesHeldUp(extra: [], window: Self.defaultWindow)
    }

    /// `--rerun-window` shrinks that bound, with everything else at the defaults.
    @Test func rerunWindowFlagShrinksWhatAKillRunsTwice() throws {
        try killWithWritesHeldUp(extra: ["--rerun-window", "60"], window: 60)
    }

    private func killWithWritesHeldUp(extra: [String], window: Int) throws {
        guard PoolFixture.binaryIsBuilt else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            let total = 3000
            try PoolFixture.enqueue(conn, queue: "crash", type: "ledger", count: total, extra: #","sleep_s":0.001"#)
            try conn.query("SELECT update_queue_settings('crash', '{\"visibility_timeout_s\": 2, \"backoff_base_s\": 0}'::jsonb)")
            let (dir, config) = try PoolFixture.ledgerWorkerConfig()
            let first = try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config,
                                                    log: dir.appendingPathComponent("first.log").path,
                                                    concurrency: nil, batch: nil, extra: extra)
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") >= 20
            })
            // Hold up the completer: its complete_jobs waits on these row locks; handlers and
            // claims (of pending rows) do not. SKIP LOCKED: rows a write in flight has already
            // updated are left to it (waiting for them could deadlock with that write).
            let blocker = try db.connect()
            defer { blocker.close() }
            _ = try blocker.execute("BEGIN")
            _ = try blocker.query("SELECT id FROM job_queue WHERE status = 'processing' FOR SHARE SKIP LOCKED")
            // Ran (the handler's ledger row is committed) and still processing: unwritten.
            func ranUnwritten() throws -> Int {
                try PoolFixture.count(conn, """
                    SELECT count(*)::int FROM job_queue j
                    WHERE j.status = 'processing' AND EXISTS (SELECT 1 FROM ledger l WHERE l.k = j.payload->>'k')
                    """)
            }
            let deadline = Date().addingTimeInterval(30)
            var piledUp = try ranUnwritten()
            while piledUp < window - 10 && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                piledUp = try ranUnwritten()
            }
            #expect(piledUp >= window - 10, "handled results piled up to the window while the write was held")
            Thread.sleep(forTimeInterval: 1)  // room for any run beyond the bound to show
            let atKill = try ranUnwritten()
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            _ = try blocker.execute("ROLLBACK")
            print("kill -9 with writes held up (\(extra)): \(atKill) jobs ran and were not committed (window \(window))")
            #expect(atKill <= window)

            let second = try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config,
                                                     log: dir.appendingPathComponent("second.log").path, concurrency: nil, batch: nil)
            let allDone = try PoolFixture.eventually(timeout: 90) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == total
            }
            #expect(PoolFixture.stopWorker(second))
            #expect(allDone)
            #expect(try PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == total)
            let duplicates = try PoolFixture.count(conn, "SELECT (count(*) - count(DISTINCT k))::int FROM ledger")
            print("duplicates after kill -9 with writes held up (\(extra)): \(duplicates)")
            // At most the jobs that ran and were not committed at the kill: the write that was
            // held up may still commit once the lock goes (its backend finishes the statement).
            #expect(duplicates > 0 && duplicates <= atKill)
            #expect(duplicates <= window)
        }
    }

    /// The window at the CLI's defaults (concurrency 10, batch 500), as docs/WORKERS.md states it.
    static let defaultWindow = 1010
}
}
