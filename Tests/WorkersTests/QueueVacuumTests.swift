import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// The pool's own VACUUM of job_queue (QueueVacuum.swift): it runs once enough jobs were claimed,
/// and only for roles that may vacuum the table.
@Suite("worker vacuum of job_queue", .serialized)
struct QueueVacuumTests {
    /// Manual VACUUMs of job_queue so far (autovacuum counts separately).
    static func vacuums(_ conn: Connection) throws -> Int {
        try PoolFixture.count(conn, "SELECT vacuum_count::int FROM pg_stat_user_tables WHERE relname = 'job_queue'")
    }

    @Test func aWorkerVacuumsJobQueueAfterEnoughClaims() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.enqueue(conn, queue: "vac", type: "noop", count: 300)
            var config = PoolFixture.pool(db, queues: ["vac"], concurrency: 20, batch: 20, handlers: HandlerTable()).configuration
            config.vacuumAfterClaims = 100
            let pool = WorkerPool(configuration: config)
            try pool.start()
            defer { pool.stop(grace: 5) }
            #expect(try PoolFixture.eventually(timeout: 60) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 300
            })
            // Statistics reach pg_stat_user_tables within a second or so of the VACUUM.
            #expect(try PoolFixture.eventually(timeout: 30) { try Self.vacuums(conn) > 0 })
        }
    }

    @Test func onlyRolesAllowedToVacuumTryAndOthersStillWork() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            #expect(try QueueVacuumStore(connection: conn).mayVacuum())
            try PoolFixture.enqueue(conn, queue: "vac", type: "noop", count: 200)
            try db.withLoginRole(in: "queuetop_worker") { workerConfig, _ in
                let workerConn = try Connection.connect(workerConfig)
                defer { workerConn.close() }
                #expect(try QueueVacuumStore(connection: workerConn).mayVacuum() == false)
                var config = PoolFixture.pool(db, queues: ["vac"], concurrency: 20, batch: 20, handlers: HandlerTable()).configuration
                config.database = workerConfig
                config.vacuumAfterClaims = 10
                let pool = WorkerPool(configuration: config)
                try pool.start()
                #expect(try PoolFixture.eventually(timeout: 60) {
                    try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 200
                })
                pool.stop(grace: 5)
            }
            #expect(try Self.vacuums(conn) == 0)
        }
    }
}
