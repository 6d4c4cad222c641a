import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The job lifecycle against a real, freshly migrated PostgreSQL.
@Suite struct QueueEngineTests {
    func status(_ conn: Connection, _ id: some PostgresEncodable) throws -> String {
        try conn.query("SELECT status FROM job_queue WHERE id = \(id)").scalar()
    }

    @Test func everyStatusTransition() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let a = try jobs.enqueue(NewJob(queue: "emails", type: "send", payload: JSONText(#"{"n":1}"#))).id
            #expect(try status(conn, a) == "pending")
            let claimed = try jobs.claim(worker: "w1", queues: ["emails"], max: 10)
            #expect(claimed.map(\.id) == [JobID(a)])
            #expect(try status(conn, a) == "processing")
            #expect(try jobs.complete(worker: "w1", ids: [JobID(a)], processingMs: [42]) == 1)
            #expect(try status(conn, a) == "completed")
            let ms: Int = try conn.query("SELECT processing_time_ms FROM job_queue WHERE id = \(a)").scalar()
            #expect(ms == 42)

            // processing -> pending (retryable failure) -> processing -> dead_letter (non-retryable)
            let b = try jobs.enqueue(NewJob(queue: "emails", type: "send")).id
            _ = try jobs.claim(worker: "w1", queues: ["emails"], max: 1)
            #expect(try jobs.fail(worker: "w1", [JobFailure(id: JobID(b), message: "timeout", errorType: "timeout")]) == 1)
            #expect(try status(conn, b) == "pending")
            try conn.query("UPDATE job_queue SET run_at = now(), next_retry_at = now() WHERE id = \(b)")
            _ = try jobs.claim(worker: "w1", queues: ["emails"], max: 1)
            try jobs.fail(worker: "w1", [JobFailure(id: JobID(b), message: "bad address", errorType: "invalid", retryable: false)])
            #expect(try status(conn, b) == "dead_letter")
            #expect(try DLQStore(connection: conn).attempts(jobID: b).map(\.attempt) == [1, 2])
            // dead_letter -> pending (requeue); pending -> cancelled
            try DLQStore(connection: conn).requeue(id: b)
            #expect(try status(conn, b) == "pending")
            try jobs.cancel(id: b)
            #expect(try status(conn, b) == "cancelled")
            // processing -> pending (graceful release, no attempt counted)
            let c = try jobs.enqueue(NewJob(queue: "emails", type: "send")).id
            _ = try jobs.claim(worker: "w2", queues: nil, max: 5)
            #expect(try jobs.release(worker: "w2", ids: [JobID(c)]) == 1)
            #expect(try status(conn, c) == "pending")
            let attempts: Int = try conn.query("SELECT attempt_count FROM job_queue WHERE id = \(c)").scalar()
            #expect(attempts == 0)
            // A stale worker cannot complete a job it no longer holds.
            #expect(try jobs.complete(worker: "w2", ids: [JobID(c)]) == 0)
        }
    }

    @Test func higherPriorityFirstAndFutureRunAtWaits() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let low = try jobs.enqueue(NewJob(queue: "q", type: "t", priority: 0)).id
            let high = try jobs.enqueue(NewJob(queue: "q", type: "t", priority: 10)).id
            _ = try jobs.enqueue(NewJob(queue: "q", type: "t", priority: 99, runAt: Date().addingTimeInterval(3600)))
            #expect(try jobs.claim(worker: "w", queues: ["q"], max: 10).map(\.id.text).sorted()
                    == [low, high].map(\.postgresText).sorted())
            let first = try jobs.enqueue(NewJob(queue: "p", type: "t", priority: 1)).id
            _ = try jobs.enqueue(NewJob(queue: "p", type: "t", priority: 0))
            #expect(try jobs.claim(worker: "w", queues: ["p"], max: 1).map(\.id) == [JobID(first)])
        }
    }

    @Test func dedupReturnsTheExistingId() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let job = NewJob(queue: "sync", type: "store", dedupKey: "store-1:2025-11")
            let first = try jobs.enqueue(job)
            let again = try jobs.enqueue(job)
            #expect(!first.deduplicated && again.deduplicated && again.id == first.id)
            let batch = try jobs.enqueue([job, NewJob(queue: "sync", type: "store", dedupKey: "k2"),
                                          NewJob(queue: "sync", type: "store", dedupKey: "k2")])
            #expect(batch[0].id == first.id && batch[1].id == batch[2].id && batch[2].deduplicated)
            // Once the job is done, the key is free again.
            _ = try jobs.claim(worker: "w", queues: ["sync"], max: 10)
            try jobs.complete(worker: "w", ids: [JobID(first.id)])
            #expect(try jobs.enqueue(job).id != first.id)
        }
    }

    @Test func twoConnectionsClaimDisjointJobs() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            defer { setup.close() }
            _ = try JobStore(connection: setup).enqueue((0..<400).map { _ in NewJob(queue: "q", type: "t") })
            let results = try OnThreads.run(4) { w -> [UUID] in
                let conn = try db.connect()
                defer { conn.close() }
                var mine: [UUID] = []
                while true {
                    let got = try JobStore(connection: conn).claim(worker: "w\(w)", queues: ["q"], max: 7)
                    if got.isEmpty { return mine }
                    mine += got.map(\.id.uuid)
                }
            }
            let all = results.flatMap { $0 }
            #expect(all.count == 400 && Set(all).count == 400)
        }
    }

    @Test func concurrencyLimitHoldsAcrossConnections() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            defer { setup.close() }
            _ = try JobStore(connection: setup).enqueue((0..<50).map { _ in NewJob(queue: "sync", type: "t") })
            try QueueConfigStore(connection: setup).setConcurrency("sync", 3)
            let counts = try OnThreads.run(6) { w in
                let conn = try db.connect()
                defer { conn.close() }
                return try JobStore(connection: conn).claim(worker: "w\(w)", queues: ["sync"], max: 2).count
            }
            #expect(counts.reduce(0, +) == 3)
            let processing: Int = try setup.query("SELECT count(*)::int FROM job_queue WHERE status = 'processing'").scalar()
            #expect(processing == 3)
        }
    }

    @Test func backoffStaysWithinItsStatedBounds() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let queues = QueueConfigStore(connection: conn)
            _ = try jobs.enqueue(NewJob(queue: "exp", type: "t", maxAttempts: 20))
            try queues.update("exp", settings: JSONText(#"{"backoff_base_s": 30, "backoff_cap_s": 3600}"#))
            _ = try jobs.enqueue(NewJob(queue: "sched", type: "t", maxAttempts: 20))
            try queues.update("sched", settings: JSONText(#"{"backoff_schedule_s": [300, 900, 1800]}"#))
            for (queue, expected) in [("exp", [30.0, 60, 120, 240, 480, 960, 1920, 3600, 3600]),
                                      ("sched", [300.0, 900, 1800, 1800])] {
                let id: UUID = try conn.query("SELECT id FROM job_queue WHERE queue = \(queue)").scalar()
                for (n, delay) in expected.enumerated() {
                    #expect(try jobs.failJob(id: id, message: "boom", errorType: "e") == "pending")
                    let wait: Double = try conn.query(
                        "SELECT extract(epoch FROM next_retry_at - last_error_at)::float8 FROM job_queue WHERE id = \(id)").scalar()
                    #expect(wait >= delay && wait < delay * 1.25, "attempt \(n + 1) of \(queue): waited \(wait)s")
                }
            }
            // retry_after_s is a minimum.
            let id = try jobs.enqueue(NewJob(queue: "exp", type: "t")).id
            _ = try jobs.claim(worker: "w", queues: ["exp"], max: 1)
            try jobs.fail(worker: "w", [JobFailure(id: JobID(id), message: "429", errorType: "rate_limited", retryAfterSeconds: 7200)])
            let wait: Double = try conn.query(
                "SELECT extract(epoch FROM next_retry_at - last_error_at)::float8 FROM job_queue WHERE id = \(id)").scalar()
            #expect(wait == 7200)
        }
    }

    @Test func rescueLeavesAHeartbeatingJobAloneAndRecoversASilentOne() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let live = JobID(try jobs.enqueue(NewJob(queue: "q", type: "t")).id)
            let silent = JobID(try jobs.enqueue(NewJob(queue: "q", type: "t")).id)
            _ = try jobs.claim(worker: "w", queues: ["q"], max: 2)
            // Both started long ago; only one kept heartbeating.
            try conn.query("UPDATE job_queue SET started_at = now() - interval '1 hour', heartbeat_at = now() - interval '1 hour'")
            #expect(try jobs.heartbeat(worker: "w", ids: [live]) == 1)
            #expect(try jobs.rescueStale() == 1)
            #expect(try status(conn, live) == "processing")
            #expect(try status(conn, silent) == "pending")
            let row = try conn.query("SELECT attempt_count, error_type FROM job_queue WHERE id = \(silent)")[0]
            #expect(try row.decode("attempt_count", as: Int.self) == 1 && row.decode("error_type", as: String.self) == "worker_lost")
            // The worker that lost it can no longer complete it.
            #expect(try jobs.complete(worker: "w", ids: [silent]) == 0)
            // With attempts exhausted, rescue dead-letters.
            try conn.query("UPDATE job_queue SET status = 'processing', locked_by = 'w', attempt_count = 4, started_at = now() - interval '1 hour', heartbeat_at = NULL WHERE id = \(silent)")
            #expect(try jobs.rescueStale() == 1)
            #expect(try status(conn, silent) == "dead_letter")
        }
    }
}
