import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

@Suite("worker pool against a real Postgres", .serialized)
struct PoolTests {
    @Test func manyWorkersRunEveryJobExactlyOnce() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "mail", type: "ledger", count: 3000)
            let pools = (0..<3).map { PoolFixture.pool(db, queues: ["mail"], concurrency: 6 * ($0 + 1), batch: 5 * ($0 + 1), claimers: $0 + 1) }
            for pool in pools { try pool.start() }
            let done = try PoolFixture.eventually(timeout: 90) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 3000
            }
            for pool in pools { pool.stop(grace: 5) }
            #expect(done)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == 3000)
            #expect(try PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == 3000)
            // Every worker did a share of the work and deregistered.
            #expect(pools.allSatisfy { $0.snapshot().processed > 0 })
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM workers WHERE status = 'stopped'") == 3)
        }
    }

    @Test func gracefulShutdownReleasesUnfinishedJobsWithoutCountingAnAttempt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.enqueue(conn, queue: "slow", type: "simulate", count: 10,
                                    extra: #","latency_ms":{"p50":20000,"p99":20000},"max_ms":20000"#)
            let pool = PoolFixture.pool(db, queues: ["slow"], concurrency: 4)
            try pool.start()
            #expect(PoolFixture.eventually(timeout: 10) { pool.snapshot().running == 4 })
            let started = Date()
            pool.stop(grace: 0.5)
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(pool.snapshot().phase == .stopped)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending' AND attempt_count = 0 AND locked_by IS NULL") == 10)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_attempts") == 0)
        }
    }

    @Test func pauseAndConcurrencyChangesFromAnotherConnectionTakeEffect() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "ctl", type: "ledger", count: 40, extra: #","sleep_s":0.3"#)
            try conn.query("SELECT pause_queue('ctl')")
            let pool = PoolFixture.pool(db, queues: ["ctl"], concurrency: 10)
            try pool.start()
            defer { pool.stop(grace: 5) }
            Thread.sleep(forTimeInterval: 1.5)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == 0)  // paused: nothing ran

            // Resume with a concurrency limit of 2: never more than 2 processing at once.
            try conn.query("SELECT set_queue_concurrency('ctl', 2)")
            try conn.query("SELECT resume_queue('ctl')")
            #expect(try PoolFixture.eventually(timeout: 3) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") > 0
            })
            var maxProcessing = 0
            for _ in 0..<20 {
                maxProcessing = max(maxProcessing, try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'"))
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(maxProcessing <= 2 && maxProcessing > 0)

            // Pause again: within about a second nothing new starts.
            try conn.query("SELECT pause_queue('ctl')")
            Thread.sleep(forTimeInterval: 1.2)
            let ranAtPause = try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger")
            Thread.sleep(forTimeInterval: 1.5)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == ranAtPause)
            #expect(ranAtPause < 40)
        }
    }

    @Test func failuresFollowTheHandlerOutcomeAndOpenTheBreaker() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // rate_limited is retryable: 5 in a row open the breaker for the queue.
            try PoolFixture.enqueue(conn, queue: "flaky", type: "simulate", count: 8,
                                    extra: #","latency_ms":{"p50":1},"errors":{"rate_limited":1},"retry_after_s":60"#)
            try PoolFixture.enqueue(conn, queue: "bad", type: "simulate", count: 3,
                                    extra: #","latency_ms":{"p50":1},"errors":{"invalid_payload":1}"#)
            let handlers = HandlerTable()
            let pool = WorkerPool(configuration: WorkerPoolConfiguration(
                database: db.config, queues: ["flaky", "bad"], concurrency: 1, batchSize: 1, handlers: handlers,
                breaker: CircuitBreakerPolicy(failureThreshold: 5, coolDown: 60), pollInterval: 0.3))
            try pool.start()
            defer { pool.stop(grace: 1) }
            #expect(try PoolFixture.eventually(timeout: 10) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM circuit_breakers WHERE queue = 'flaky' AND state = 'open'") == 1
                    && PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'bad' AND status = 'dead_letter' AND error_type = 'invalid_payload'") == 3
            })
            Thread.sleep(forTimeInterval: 1)
            // Open: the other 3 flaky jobs were never claimed; the failed ones wait out Retry-After.
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'flaky' AND attempt_count = 0") == 3)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'flaky' AND attempt_count = 1 AND run_at > now() + interval '50 seconds'") == 5)
            #expect(pool.snapshot().queues.first { $0.name == "flaky" }?.breaker == "open")
        }
    }

    @Test func drainRequestFinishesInFlightAndStops() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "d", type: "ledger", count: 4, extra: #","sleep_s":1"#)
            let pool = PoolFixture.pool(db, queues: ["d"], concurrency: 2)
            try pool.start()
            #expect(PoolFixture.eventually(timeout: 5) { pool.snapshot().running == 2 })
            try conn.query("SELECT drain_workers(\(pool.id))")
            pool.waitUntilStopped()
            // The two running jobs finished; the other two were never claimed.
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 2)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending'") == 2)
        }
    }

    @Test func runNowMakesWaitingRetriesDueAndWakesTheWorker() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "later", type: "ledger", count: 3)
            // As if each had failed once and were waiting out a 10-minute backoff.
            try conn.query("UPDATE job_queue SET attempt_count = 1, run_at = now() + interval '10 minutes'")
            let pool = PoolFixture.pool(db, queues: ["later"])
            try pool.start()
            defer { pool.stop(grace: 5) }
            Thread.sleep(forTimeInterval: 1)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == 0)
            #expect(try PoolFixture.count(conn, "SELECT run_queue_now('later')") == 3)
            #expect(try PoolFixture.eventually(timeout: 3) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 3
            })
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM audit_log WHERE action = 'run_queue_now'") == 1)
        }
    }

    @Test func registryShowsTheWorkerWhileItRuns() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let pool = PoolFixture.pool(db, queues: ["a", "b"], concurrency: 3)
            try pool.start()
            let row = try conn.query("SELECT status, concurrency, queues::text FROM worker_registry WHERE id = \(pool.id)")
            #expect(try row.first?.decode(0, as: String.self) == "running")
            #expect(try row.first?.decode(1, as: Int.self) == 3)
            #expect(try row.first?.decode(2, as: String.self) == "{a,b}")
            pool.stop(grace: 1)
            #expect(try conn.query("SELECT status FROM worker_registry WHERE id = \(pool.id)").scalar(String.self) == "stopped")
        }
    }
}
