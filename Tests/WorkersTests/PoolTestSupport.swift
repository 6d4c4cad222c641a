import Foundation
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// Shared helpers for the pool tests: a ledger table that a `sql` handler writes, so a test can
/// see how many times each job really ran, and polling with a deadline.
enum PoolFixture {
    static let ledgerSQL = """
        CREATE TABLE ledger (k text NOT NULL, ran_at timestamptz NOT NULL DEFAULT clock_timestamp());
        CREATE FUNCTION ledger_record(payload jsonb) RETURNS void LANGUAGE sql AS $$
          INSERT INTO ledger (k) VALUES (payload->>'k');
          SELECT pg_sleep(coalesce((payload->>'sleep_s')::float8, 0));
        $$;
        """

    static func prepare(_ conn: Connection) throws {
        try conn.executeScript(ledgerSQL)
    }

    /// Enqueues `count` jobs of `type` whose payload carries a unique key `k`.
    static func enqueue(_ conn: Connection, queue: String, type: String, count: Int, extra: String = "") throws {
        var jobs: [NewJob] = []
        for i in 0..<count {
            jobs.append(NewJob(queue: queue, type: type, payload: JSONText("{\"k\":\"\(queue)-\(i)\"\(extra)}")))
        }
        for chunk in stride(from: 0, to: jobs.count, by: 5000) {
            _ = try JobStore(connection: conn).enqueue(Array(jobs[chunk..<min(chunk + 5000, jobs.count)]))
        }
    }

    static func ledgerHandlers(_ config: ConnectionConfig) -> HandlerTable {
        HandlerTable(bindings: ["ledger": SQLHandler(mode: .function("ledger_record"), timeout: 30, database: config)])
    }

    static func count(_ conn: Connection, _ sql: Query) throws -> Int {
        try conn.query(sql).scalar(Int.self)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    static func pool(_ db: TestDatabase, queues: [String]?, concurrency: Int = 8, batch: Int = 50,
                     claimers: Int = 1, handlers: HandlerTable? = nil) -> WorkerPool {
        WorkerPool(configuration: WorkerPoolConfiguration(
            database: db.config, queues: queues, concurrency: concurrency, batchSize: batch, claimers: claimers,
            handlers: handlers ?? ledgerHandlers(db.config), pollInterval: 0.5, rescueInterval: 1,
            log: { level, message in if level != .info { print("[pool \(level)] \(message)") } }))
    }
}
