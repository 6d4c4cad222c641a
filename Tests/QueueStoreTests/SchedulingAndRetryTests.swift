import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// When a job may run, and what happens to it when it keeps failing.
@Suite struct SchedulingAndRetryTests {
    @Test func rateLimitNeverHandsOutMoreThanBurstPlusRateTimesElapsed() throws {
        try TestDatabase.with { db in
            let a = try db.connect(), b = try db.connect()
            defer { a.close(); b.close() }
            _ = try JobStore(connection: a).enqueue((0..<100).map { _ in NewJob(queue: "api", type: "call") })
            try QueueConfigStore(connection: a).update("api", settings: JSONText(#"{"rate_limit_per_s": 2}"#))
            let started: Date = try a.query("SELECT clock_timestamp()").scalar()
            // The first claim gets the one-second burst, no more, however many it asks for.
            #expect(try JobStore(connection: a).claim(worker: "wa", queues: ["api"], max: 50).count == 2)
            // Two workers (two sessions) keep asking for ~1.5 s: the bucket is shared.
            var total = 2
            var now = started
            while now.timeIntervalSince(started) < 1.5 {
                for (conn, worker) in [(a, "wa"), (b, "wb")] {
                    total += try JobStore(connection: conn).claim(worker: worker, queues: ["api"], max: 50).count
                }
                now = try a.query("SELECT clock_timestamp()").scalar()
                Thread.sleep(forTimeInterval: 0.02)
            }
            let elapsed = now.timeIntervalSince(started)
            #expect(Double(total) <= 2 + 2 * elapsed, "\(total) claims in \(elapsed) s at 2/s")
            // Tokens do refill: after the window, claims resume.
            #expect(total >= 3)
            let processing: Int = try a.query("SELECT count(*)::int FROM job_queue WHERE status = 'processing'").scalar()
            #expect(processing == total)
        }
    }

    @Test func aJobScheduledForLaterIsClaimedOnlyOnceItsTimeHasCome() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let serverNow: Date = try conn.query("SELECT now()").scalar()
            let later = try jobs.enqueue(NewJob(queue: "q", type: "t", priority: 100, runAt: serverNow.addingTimeInterval(1.5))).id
            let now = try jobs.enqueue(NewJob(queue: "q", type: "t")).id
            #expect(try jobs.claim(worker: "w", queues: ["q"], max: 10).map(\.id.uuid) == [now])
            #expect(try jobs.claim(worker: "w", queues: ["q"], max: 10).isEmpty)
            var claimed: [UUID] = []
            let deadline = Date().addingTimeInterval(15)
            while claimed.isEmpty && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.1)
                claimed = try jobs.claim(worker: "w", queues: ["q"], max: 10).map(\.id.uuid)
            }
            #expect(claimed == [later])
            let startedAt: Date = try conn.query("SELECT started_at FROM job_queue WHERE id = \(later)").scalar()
            #expect(startedAt >= serverNow.addingTimeInterval(1.499))  // run_at travels as text: allow rounding
        }
    }

    @Test func dedupHoldsWhileTheJobIsProcessingAndFreesTheKeyInTheDLQ() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let job = NewJob(queue: "sync", type: "store", dedupKey: "store-7:2025-11")
            let first = try jobs.enqueue(job).id
            #expect(try jobs.claim(worker: "w", queues: ["sync"], max: 1).map(\.id.uuid) == [first])
            let whileRunning = try jobs.enqueue(job)
            #expect(whileRunning.deduplicated && whileRunning.id == first)
            let count: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
            #expect(count == 1)
            // Dead: the key is free for new work.
            try jobs.fail(worker: "w", [JobFailure(id: JobID(first), message: "bad", errorType: "invalid", retryable: false)])
            let next = try jobs.enqueue(job)
            #expect(!next.deduplicated && next.id != first)
            // And the dead twin cannot be requeued while the new one is active.
            #expect(throws: QueueStoreError.self) { try DLQStore(connection: conn).requeue(id: first) }
        }
    }

    @Test func retryableFailuresUseUpMaxAttemptsThenTheDLQKeepsEveryAttempt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let id = try jobs.enqueue(NewJob(queue: "mail", type: "send", maxAttempts: 3)).id
            // No backoff, so each retry is due at once and the test needs no clock games.
            try QueueConfigStore(connection: conn).update("mail", settings: JSONText(#"{"backoff_base_s": 0, "backoff_cap_s": 0}"#))
            var seenAttempts: [Int] = []
            for n in 1...3 {
                let claimed = try jobs.claim(worker: "w\(n)", queues: ["mail"], max: 1)
                seenAttempts += claimed.map(\.attemptCount)
                try jobs.fail(worker: "w\(n)", [JobFailure(id: JobID(id), message: "smtp 451 try \(n)", errorType: "smtp_\(n)",
                                                          details: JSONText("{\"try\":\(n)}"))])
            }
            #expect(seenAttempts == [0, 1, 2])
            let row = try conn.query("SELECT status, attempt_count, error_type FROM job_queue WHERE id = \(id)")[0]
            #expect(try row.decode("status", as: String.self) == "dead_letter")
            #expect(try row.decode("attempt_count", as: Int.self) == 3)
            #expect(try row.decode("error_type", as: String.self) == "smtp_3")
            let history = try DLQStore(connection: conn).attempts(jobID: id)
            #expect(history.map(\.attempt) == [1, 2, 3])
            #expect(history.map(\.errorType) == ["smtp_1", "smtp_2", "smtp_3"])
            #expect(history.map(\.worker) == ["w1", "w2", "w3"])
            #expect(history.map(\.message) == ["smtp 451 try 1", "smtp 451 try 2", "smtp 451 try 3"])
            let details: [String] = try conn.query("SELECT error_details::text FROM job_attempts WHERE job_id = \(id) ORDER BY attempt").map { try $0.decode(0) }
            #expect(details == [#"{"try": 1}"#, #"{"try": 2}"#, #"{"try": 3}"#])
            // Nothing left to claim.
            #expect(try jobs.claim(worker: "w4", queues: ["mail"], max: 1).isEmpty)
        }
    }

    @Test func aRescuedJobCountsAnAttemptAndTheHistoryNamesTheLostWorker() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let id = try jobs.enqueue(NewJob(queue: "q", type: "t", maxAttempts: 2)).id
            try QueueConfigStore(connection: conn).update("q", settings: JSONText(#"{"visibility_timeout_s": 1, "backoff_base_s": 0, "backoff_cap_s": 0}"#))
            for (n, worker) in ["crashy-1", "crashy-2"].enumerated() {
                #expect(try jobs.claim(worker: worker, queues: ["q"], max: 1).map(\.attemptCount) == [n])
                // The worker dies: no heartbeat for longer than the visibility timeout.
                Thread.sleep(forTimeInterval: 1.2)
                #expect(try jobs.rescueStale() == 1)
            }
            #expect(try conn.query("SELECT status FROM job_queue WHERE id = \(id)").scalar(String.self) == "dead_letter")
            let history = try DLQStore(connection: conn).attempts(jobID: id)
            #expect(history.map(\.attempt) == [1, 2] && history.map(\.errorType) == ["worker_lost", "worker_lost"])
            #expect(history.map(\.worker) == ["crashy-1", "crashy-2"])
        }
    }
}
