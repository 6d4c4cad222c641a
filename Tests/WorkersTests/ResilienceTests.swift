import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

extension PoolTests {
@Suite("leases and database outages")
struct ResilienceTests {
    @Test func aLiveLongJobKeepsItsLeasePastTheVisibilityTimeout() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "long", type: "ledger", count: 1, extra: #","sleep_s":5"#)
            try conn.query("SELECT update_queue_settings('long', '{\"visibility_timeout_s\": 2}'::jsonb)")
            let pool = PoolFixture.pool(db, queues: ["long"])
            try pool.start()
            defer { pool.stop(grace: 5) }
            // Someone else rescues aggressively the whole time.
            let deadline = Date().addingTimeInterval(8)
            var rescued = 0
            while Date() < deadline {
                rescued += try PoolFixture.count(conn, "SELECT rescue_stale_jobs(100)")
                if try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 1 { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            #expect(rescued == 0)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed' AND attempt_count = 0") == 1)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") == 1)
        }
    }

    @Test func killedDatabaseConnectionsAreReopenedAndNothingIsLost() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            try PoolFixture.enqueue(conn, queue: "outage", type: "ledger", count: 600, extra: #","sleep_s":0.005"#)
            let pool = PoolFixture.pool(db, queues: ["outage"], concurrency: 8, batch: 20)
            try pool.start()
            defer { pool.stop(grace: 5) }
            #expect(try PoolFixture.eventually(timeout: 20) { try PoolFixture.count(conn, "SELECT count(*)::int FROM ledger") >= 100 })
            // Cut every pool connection (fetcher, completer, maintenance, listener) twice.
            for round in 0..<2 {
                let killed = try PoolFixture.count(conn, """
                    SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name LIKE 'queuetop worker %'
                    """)
                // Fetcher, completer and listener at least (maintenance connects on its first
                // tick); the second time, those not reconnected yet are spared.
                #expect(killed >= (round == 0 ? 3 : 1))
                Thread.sleep(forTimeInterval: 0.5)
            }
            #expect(try PoolFixture.eventually(timeout: 40) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 600
            })
            #expect(try PoolFixture.count(conn, "SELECT count(DISTINCT k)::int FROM ledger") == 600)
            // A notification after the outage still wakes the re-LISTENed worker at once.
            try PoolFixture.enqueue(conn, queue: "outage", type: "ledger", count: 1)
            let enqueued = Date()
            #expect(try PoolFixture.eventually(timeout: 5) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 601
            })
            #expect(Date().timeIntervalSince(enqueued) < 2)
        }
    }
}
}
