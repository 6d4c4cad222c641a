import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// The dead-worker sweep in rescue_stale_jobs (20_jobs.sql; docs/WORKERS.md, "Dead workers"):
/// a worker whose registry row has been silent for worker_silence_limit() (30 s) has its jobs
/// handed back at once, free, instead of after the queue's visibility timeout (300 s) plus a
/// charged attempt; a worker that is alive but late keeps its jobs.
// Nested in PoolTests so it inherits .serialized: real worker processes and a time bound.
extension PoolTests {
@Suite("dead workers")
struct DeadWorkerTests {
    /// The issue's target: after kill -9, every job of the dead worker completes within 45 s
    /// with default settings (30 s silence, then the survivor's next sweep, every 10 s).
    static let recoveryTarget: TimeInterval = 45
    /// Asserted with a margin for a loaded 2-core machine.
    static let recoveryBound: TimeInterval = 60

    @Test func killNineOfOneOfTwoWorkersGivesItsJobsBackWithinTheBound() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            // Default queue settings: visibility timeout 300 s, default backoff.
            try PoolFixture.enqueue(conn, queue: "crash", type: "ledger", count: 600, extra: #","sleep_s":0.05"#)
            let (dir, config) = try PoolFixture.ledgerWorkerConfig()
            let victim = try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config,
                                                     log: dir.appendingPathComponent("victim.log").path)
            let survivor = try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["crash"], config: config,
                                                       log: dir.appendingPathComponent("survivor.log").path)
            defer { PoolFixture.stopWorker(survivor); PoolFixture.stopWorker(victim) }
            let victimPID = Int(victim.processIdentifier)
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM workers WHERE status = 'running'") == 2
                    && PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") >= 100
            }, "both workers registered and the drain is under way")
            let victimID = try conn.query("SELECT id FROM workers WHERE pid = \(victimPID)").scalar(String.self)

            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            let killedAt = Date()
            // A statement the victim had already sent (a claim, a completion) still runs to its
            // commit on its server backend, which only then finds its client gone: read what it
            // held once those few milliseconds are over, not in the middle of them.
            Thread.sleep(forTimeInterval: 1)
            // Everything the dead worker held: claimed, running, or handled but not committed.
            let held = try conn.query("""
                SELECT id::text, payload->>'k' FROM job_queue WHERE status = 'processing' AND locked_by = \(victimID)
                """).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)) }
            #expect(!held.isEmpty, "the killed worker held jobs")
            let heldIDs = held.map(\.0), heldKeys = Set(held.map(\.1))

            let recovered = try PoolFixture.eventually(timeout: 120) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = ANY(\(heldIDs)::uuid[]) AND status = 'completed'")
                    == heldIDs.count
            }
            let recovery = Date().timeIntervalSince(killedAt)
            print("kill -9 with \(held.count) job(s) held: all completed \(String(format: "%.1f", recovery)) s after the kill")
            #expect(recovered, "the dead worker's jobs did not complete within 120 s")
            #expect(recovery <= Self.recoveryBound,
                    "recovery took \(recovery) s; target \(Self.recoveryTarget) s, bound \(Self.recoveryBound) s")

            #expect(try PoolFixture.eventually(timeout: 60) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 600
            }, "every job completed")
            #expect(try PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == 600)
            // At-least-once: a job ran twice only if the dead worker held it.
            let duplicated = try conn.query("SELECT k FROM ledger GROUP BY k HAVING count(*) > 1")
                .map { try $0.decode(0, as: String.self) }
            #expect(Set(duplicated).isSubset(of: heldKeys), "duplicates outside the dead worker's jobs: \(Set(duplicated).subtracting(heldKeys))")
            // The release was not charged: no attempt, no failure recorded.
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE attempt_count > 0") == 0)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_attempts") == 0)
            // The record: one audit row names the dead worker and every job handed back.
            let released = try conn.query("""
                SELECT coalesce(array_agg(r ORDER BY r), '{}')::text[] FROM audit_log a, jsonb_array_elements_text(a.filter->'released') r
                WHERE a.action = 'worker.dead' AND a.filter->>'worker_id' = \(victimID)
                """).scalar([String].self)
            #expect(Set(released) == Set(heldIDs))
            // The dead worker is no longer busy or alerting, and only the survivor counts.
            let row = try conn.query("SELECT status, in_flight FROM worker_registry WHERE id = \(victimID)").first!
            #expect(try row.decode(0, as: String.self) == "dead")
            #expect(try row.decode(1, as: Int.self) == 0)
            let snapshot = try HealthStore(connection: conn).snapshot().snapshot
            #expect(!snapshot.alerts.contains { $0.kind == .workerSilent })
            #expect(snapshot.workerCounts == WorkerCounts(live: 1, lost: 0))
            #expect(PoolFixture.stopWorker(survivor))
        }
    }

    /// A worker whose registry row goes silent past the limit while it still renews its jobs'
    /// leases (a late registry write, not a death) keeps the long job it is running: the sweep
    /// (its own and anyone's) sees it 'lost' yet hands back only jobs whose leases are stale too.
    @Test func aLiveWorkerWithALateRegistryRowKeepsItsLongJob() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "long", type: "ledger", count: 1, extra: #","sleep_s":42"#)
            // The fixture's ledger handler times out at 30 s; this job outlives the silence limit.
            let handlers = HandlerTable(bindings: ["ledger": SQLHandler(mode: .function("public.ledger_record"), timeout: 120,
                                                                        database: db.config)])
            let pool = PoolFixture.pool(db, queues: ["long"], concurrency: 1, batch: 1, handlers: handlers)
            try pool.start()
            defer { pool.stop(grace: 0) }
            // (The ledger row commits when the job ends: watch the job's status instead.)
            #expect(try PoolFixture.eventually(timeout: 10) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing' AND locked_by = \(pool.id)") == 1
            }, "the long job started")
            pool.holdRegistryHeartbeat(true)
            // Silent past worker_silence_limit(): the registry calls it lost, and the pool's own
            // sweep (every second here) and ours run while it is.
            #expect(try PoolFixture.eventually(timeout: 40) {
                try conn.query("SELECT status FROM worker_registry WHERE id = \(pool.id)").scalar(String.self) == "lost"
            }, "the registry row went silent")
            for _ in 0..<5 {
                _ = try conn.query("SELECT rescue_stale_jobs()").scalar(Int.self)
                #expect(try PoolFixture.count(conn, """
                    SELECT count(*)::int FROM job_queue WHERE status = 'processing' AND locked_by = \(pool.id)
                    """) == 1, "the live worker lost its job")
                Thread.sleep(forTimeInterval: 0.5)
            }
            pool.holdRegistryHeartbeat(false)
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 1
            }, "the long job completed")
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == 1, "the job ran once")
            #expect(try PoolFixture.count(conn, "SELECT attempt_count FROM job_queue") == 0)
            #expect(try conn.query("SELECT status FROM worker_registry WHERE id = \(pool.id)").scalar(String.self) == "running")
        }
    }
}
}
