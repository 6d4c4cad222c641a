import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Retention (migration 0005): finished jobs past their queue's retention and old finished bulk
/// operations are pruned in short batches, by at most one worker per interval.
@Suite struct RetentionTests {
    static func statuses(_ conn: Connection, queue: String) throws -> [String: Int] {
        let rows = try conn.query("SELECT status, count(*)::int AS n FROM job_queue WHERE queue = \(queue) GROUP BY status")
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode("status", as: String.self), try $0.decode("n", as: Int.self)) })
    }

    /// `done` completed, `cancelled` cancelled, plus one pending and two processing jobs (see
    /// `deadLetterOne`: a job with attempts can no longer be aged).
    static func fill(_ conn: Connection, queue: String, done: Int, cancelled: Int = 0) throws {
        let jobs = JobStore(connection: conn)
        let ids = try jobs.enqueue((0..<(done + cancelled + 3)).map { NewJob(queue: queue, type: "t", payload: JSONText("{\"n\":\($0)}")) }).map(\.id)
        let claimed = try jobs.claim(worker: "w", queues: [queue], max: done + 2).map(\.id.uuid)
        try jobs.complete(worker: "w", ids: claimed.prefix(done).map(JobID.init))
        for id in ids.filter({ !claimed.contains($0) }).prefix(cancelled) { try jobs.cancel(id: id) }
    }

    /// Sends one of the queue's processing jobs to the DLQ (non-retryable failure).
    static func deadLetterOne(_ conn: Connection, queue: String) throws {
        let id: JobID = try conn.query("SELECT id FROM job_queue WHERE queue = \(queue) AND status = 'processing' ORDER BY id LIMIT 1").scalar()
        try JobStore(connection: conn).fail(worker: "w", [JobFailure(id: id, message: "bad", errorType: "invalid", retryable: false)])
    }

    /// Three queues: "short" (1 h retention, jobs 2 days old), "long" (30 days, 2 days old),
    /// "fresh" (1 h, new jobs).
    static func threeQueues(_ conn: Connection) throws {
        try fill(conn, queue: "short", done: 3, cancelled: 1)
        try fill(conn, queue: "long", done: 2)
        try JobFixtures.age(conn, queue: "short", seconds: 2 * 86400)
        try JobFixtures.age(conn, queue: "long", seconds: 2 * 86400)
        try fill(conn, queue: "fresh", done: 2)
        for queue in ["short", "long", "fresh"] { try deadLetterOne(conn, queue: queue) }
        let queues = QueueConfigStore(connection: conn)
        try queues.update("short", settings: JSONText(#"{"retention_s": 3600}"#))
        try queues.update("long", settings: JSONText(#"{"retention_s": 2592000}"#))
        try queues.update("fresh", settings: JSONText(#"{"retention_s": 3600}"#))
    }

    @Test func pruningKeepsEachQueuesRetentionAndOnlyRemovesFinishedJobs() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.threeQueues(conn)
            try conn.query("UPDATE maintenance_tasks SET batch_size = 2")

            let outcome = try MaintenanceStore(connection: conn).runRetentionIfDue(worker: "w1")
            let run = try #require(outcome.run)
            #expect(run.finished && run.jobsPruned == 4)
            // Old finished jobs of "short" are gone; its unfinished and DLQ jobs stay, whatever their age.
            #expect(try Self.statuses(conn, queue: "short") == ["pending": 1, "processing": 1, "dead_letter": 1])
            // "fresh" finished within the hour; "long" keeps 30 days.
            #expect(try Self.statuses(conn, queue: "fresh") == ["completed": 2, "pending": 1, "processing": 1, "dead_letter": 1])
            #expect(try Self.statuses(conn, queue: "long") == ["completed": 2, "pending": 1, "processing": 1, "dead_letter": 1])
            let row = try conn.query("SELECT last_run_by, last_jobs_pruned, last_finished_at IS NOT NULL AS finished FROM maintenance_tasks")[0]
            #expect(try row.decode("last_run_by", as: String.self) == "w1")
            #expect(try row.decode("last_jobs_pruned", as: Int.self) == 4)
            #expect(try row.decode("finished", as: Bool.self))
        }
    }

    @Test func eachBatchExaminesAtMostItsSizeAndTheWalkVisitsEveryOldRowOnce() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let ids = try jobs.enqueue((0..<25).map { _ in NewJob(queue: "q", type: "t") }).map { JobID($0.id) }
            _ = try jobs.claim(worker: "w", queues: ["q"], max: 25)
            try jobs.complete(worker: "w", ids: Array(ids.prefix(20)))  // 20 completed, 5 processing
            try JobFixtures.age(conn, queue: "q", seconds: 86400)
            try QueueConfigStore(connection: conn).update("q", settings: JSONText(#"{"retention_s": 60}"#))
            let store = MaintenanceStore(connection: conn)
            var cursor: UUID? = nil
            var pruned: [Int] = []
            repeat {
                let before: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
                let batch = try store.pruneJobsBatch(after: cursor, batchSize: 4)
                let after: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
                #expect(before - after == batch.pruned && batch.pruned <= 4)
                pruned.append(batch.pruned)
                cursor = batch.next
            } while cursor != nil && pruned.count < 100
            // 25 rows in batches of 4: 7 batches (the last, short one ends the walk).
            #expect(pruned.count == 7 && pruned.reduce(0, +) == 20)
            #expect(try Self.statuses(conn, queue: "q") == ["processing": 5])
        }
    }

    @Test func attemptHistoryGoesWithItsPrunedJob() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue(NewJob(queue: "q", type: "t"))
            try JobFixtures.age(conn, queue: "q", seconds: 86400)
            let aged: UUID = try conn.query("SELECT id FROM job_queue").scalar()
            try QueueConfigStore(connection: conn).update("q", settings: JSONText(#"{"retention_s": 60, "backoff_base_s": 0, "backoff_cap_s": 0}"#))
            #expect(try jobs.failJob(id: aged, message: "flaky", errorType: "timeout") == "pending")
            _ = try jobs.claim(worker: "w", queues: ["q"], max: 1)
            try jobs.complete(worker: "w", ids: [JobID(aged)])
            try conn.query("UPDATE job_queue SET completed_at = now() - interval '1 hour'")
            #expect(try DLQStore(connection: conn).attempts(jobID: aged).count == 1)
            let run = try #require(try MaintenanceStore(connection: conn).runRetentionIfDue(worker: "w").run)
            #expect(run.jobsPruned == 1)
            let attempts: Int = try conn.query("SELECT count(*)::int FROM job_attempts").scalar()
            #expect(attempts == 0)
        }
    }

    @Test func oldFinishedBulkOperationsArePrunedActiveOnesNever() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.query("""
                INSERT INTO bulk_operations (kind, status, finished_at, params) VALUES
                  ('lead_migration', 'completed', now() - interval '40 days', '{"n": "old completed"}'),
                  ('lead_migration', 'cancelled', now() - interval '31 days', '{"n": "old cancelled"}'),
                  ('lead_migration', 'failed',    now() - interval '60 days', '{"n": "old failed"}'),
                  ('lead_migration', 'completed', now() - interval '1 day',   '{"n": "recent"}'),
                  ('lead_migration', 'running',   NULL,                       '{"n": "running"}')
                """)
            let run = try #require(try MaintenanceStore(connection: conn).runRetentionIfDue(worker: "w").run)
            #expect(run.operationsPruned == 3 && run.finished)
            let left: [String] = try conn.query("SELECT params->>'n' AS n FROM bulk_operations ORDER BY id").map { try $0.decode("n") }
            #expect(left == ["recent", "running"])
            let total: Int = try conn.query("SELECT total_operations_pruned::int FROM maintenance_tasks").scalar()
            #expect(total == 3)
        }
    }

    @Test func atMostOneWorkerPerIntervalWinsTheRun() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            defer { setup.close() }
            // Eight workers on eight connections ask at the same instant.
            let connections = try (0..<8).map { _ in try db.connect() }
            defer { connections.forEach { $0.close() } }
            let claims = try OnThreads.run(connections.count) { n in
                try MaintenanceStore(connection: connections[n]).claim(worker: "w\(n)")
            }
            #expect(claims.filter(\.claimed).count == 1)
            let store = MaintenanceStore(connection: setup)
            // The winner's run is in progress: nobody else takes it, even once the interval is over.
            try setup.query("UPDATE maintenance_tasks SET last_started_at = now() - interval '1 hour'")
            #expect(try !store.claim(worker: "late").claimed)
            // A run that stopped reporting progress is presumed dead and taken over; its owner learns it.
            try setup.query("UPDATE maintenance_tasks SET last_progress_at = now() - interval '1 hour'")
            let winner: String = try setup.query("SELECT last_run_by FROM maintenance_tasks").scalar()
            #expect(try store.claim(worker: "rescuer").claimed)
            #expect(try !store.progress(worker: winner, jobs: 1, operations: 0))
            #expect(try store.progress(worker: "rescuer", jobs: 0, operations: 0, finished: true))
            // Finished: not due again before the interval (default 300 s) is over.
            let next = try store.claim(worker: "early")
            #expect(!next.claimed && next.nextCheckSeconds > 290 && next.nextCheckSeconds <= 300)
            // Disabled: never claimed.
            try setup.query("UPDATE maintenance_tasks SET enabled = false, last_started_at = NULL")
            #expect(try !store.claim(worker: "any").claimed)
        }
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let id = try jobs.enqueue(NewJob(queue: "q", type: "t")).id
            _ = try jobs.claim(worker: "w", queues: ["q"], max: 1)
            try jobs.complete(worker: "w", ids: [JobID(id)])
            try QueueConfigStore(connection: conn).update("q", settings: JSONText(#"{"retention_s": 0}"#))
            let store = MaintenanceStore(connection: conn)
            for size in [0, -5, 100_001] {
                #expect(throws: QueueStoreError.self) { try store.pruneJobsBatch(after: nil, batchSize: size) }
                #expect(throws: QueueStoreError.self) { try store.pruneBulkOperations(olderThanSeconds: 0, batchSize: size) }
            }
            #expect(throws: QueueStoreError.self) { try store.pruneBulkOperations(olderThanSeconds: -1, batchSize: 10) }
            do {
                _ = try store.claim(task: "vacuum_everything", worker: "w")
                Issue.record("an unknown task must be refused")
            } catch let QueueStoreError.notFound(message) {
                #expect(message.contains("unknown maintenance task \"vacuum_everything\""))
            }
            #expect(throws: QueueStoreError.self) { try store.claim(worker: "") }
            let left: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
            #expect(left == 1)
            let started: Bool = try conn.query("SELECT last_started_at IS NULL FROM maintenance_tasks").scalar()
            #expect(started)
        }
    }
}
