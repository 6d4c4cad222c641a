import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing
@testable import Workers

/// The pool prunes by itself: nobody has to schedule prune calls.
@Suite struct RetentionLoopTests {
    @Test func aRunningPoolPrunesFinishedJobsPastRetentionAndRecordsTheRun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let ids = try jobs.enqueue((0..<30).map { _ in NewJob(queue: "old", type: "t") }).map { JobID($0.id) }
            _ = try jobs.claim(worker: "earlier", queues: ["old"], max: 30)
            try jobs.complete(worker: "earlier", ids: Array(ids.prefix(20)))
            try jobs.release(worker: "earlier", ids: Array(ids.suffix(10)))  // pending again, kept
            try JobFixtures.age(conn, queue: "old", seconds: 3 * 86400)
            try QueueConfigStore(connection: conn).update("old", settings: JSONText(#"{"retention_s": 86400, "paused": true}"#))
            try conn.execute("UPDATE maintenance_tasks SET batch_size = 7")

            let pool = PoolFixture.pool(db, queues: ["old"])
            try pool.start()
            defer { pool.stop(grace: 1) }
            let pruned = try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 0
            }
            #expect(pruned)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending'") == 10)
            let recorded = try PoolFixture.eventually(timeout: 10) {
                try conn.query("SELECT last_finished_at IS NOT NULL FROM maintenance_tasks").scalar(Bool.self)
            }
            #expect(recorded)
            let row = try conn.query("SELECT last_run_by, last_jobs_pruned::int AS n FROM maintenance_tasks")[0]
            #expect(try row.decode("last_run_by", as: String.self) == pool.id)
            #expect(try row.decode("n", as: Int.self) == 20)
        }
    }
}
