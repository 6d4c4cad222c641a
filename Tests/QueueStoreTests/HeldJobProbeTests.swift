import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// A worker's round trips on the jobs it holds (complete, heartbeat, release) touch those jobs,
/// not every job in flight: their cost must not grow with the rest of the fleet (0012).
@Suite struct HeldJobProbeTests {
    /// Index entries read from job_queue_processing_idx by everything this session ran so far.
    private func processingIndexReads(_ conn: Connection) throws -> Int {
        try conn.query("SELECT pg_stat_force_next_flush()")
        try conn.query("SELECT 1")  // the flush happens when the session goes idle
        try conn.query("SELECT pg_stat_clear_snapshot()")
        return try conn.query("""
            SELECT idx_tup_read::int FROM pg_stat_user_indexes WHERE indexrelname = 'job_queue_processing_idx'
            """).scalar()
    }

    @Test func aWorkersRoundTripsReadItsOwnJobsEvenWhenStatisticsSayNothingIsInFlight() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            // 5,000 jobs analysed while pending (as after a bulk enqueue): the statistics say no
            // job is processing. Then other workers take them all.
            try conn.query("INSERT INTO queues (name) VALUES ('q')")
            try conn.query("INSERT INTO job_queue (queue, job_type) SELECT 'q', 't' FROM generate_series(1, 5000)")
            try conn.query("ANALYZE job_queue")
            for n in 0..<5 { #expect(try jobs.claim(worker: "other-\(n)", queues: ["q"], max: 1000).count == 1000) }
            let mine = try (0..<10).map { _ in JobID(try jobs.enqueue(NewJob(queue: "q", type: "t")).id) }
            #expect(try jobs.claim(worker: "w", queues: ["q"], max: 10).map(\.id.text).sorted() == mine.map(\.text).sorted())

            let before = try processingIndexReads(conn)
            #expect(try jobs.heartbeat(worker: "w", ids: Array(mine.prefix(5))) == 5)
            #expect(try jobs.release(worker: "w", ids: [mine[5]]) == 1)
            #expect(try jobs.complete(worker: "w", ids: Array(mine.prefix(5)), processingMs: Array(repeating: 7, count: 5)) == 5)
            // A job it no longer holds is refused, whatever the plan.
            #expect(try jobs.complete(worker: "w", ids: [mine[5]]) == 0)
            let reads = try processingIndexReads(conn) - before
            #expect(reads < 100, "\(reads) entries of the processing index read for 11 jobs with 5,005 in flight")

            let completed: Int = try conn.query("""
                SELECT count(*)::int FROM job_queue WHERE id = ANY(\(Array(mine.prefix(5)))::uuid[])
                  AND status = 'completed' AND processing_time_ms = 7 AND locked_by IS NULL
                """).scalar()
            #expect(completed == 5)
            #expect(try conn.query("SELECT status FROM job_queue WHERE id = \(mine[5])").scalar() as String == "pending")
        }
    }
}
