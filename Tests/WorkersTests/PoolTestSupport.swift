import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing
import QueuetopLogging
@testable import Workers

/// Shared helpers for the pool tests: a ledger table that a `sql` handler writes, so a test can
/// see how many times each job really ran, and polling with a deadline. Both live in `public`,
/// named with it: the pool's connections have no search_path (TestDatabase), as a handler
/// function outside queuetop's schema is named in a real config file.
enum PoolFixture {
    static let ledgerSQL = """
        CREATE TABLE public.ledger (k text NOT NULL, ran_at timestamptz NOT NULL DEFAULT clock_timestamp());
        CREATE FUNCTION public.ledger_record(payload jsonb) RETURNS void LANGUAGE sql AS $$
          INSERT INTO public.ledger (k) VALUES (payload->>'k');
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
        HandlerTable(bindings: ["ledger": SQLHandler(mode: .function("public.ledger_record"), timeout: 30, database: config)])
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
            logger: .queuetop("test.pool", level: .warning, to: [LogCallback { print("[pool \($0.level)] \($0.message)") }])))
    }

    // MARK: worker processes (the real binary)

    /// A scratch folder holding a worker config that binds job type `ledger` to the ledger SQL
    /// function, for `queuetop worker` processes. Returns (folder, config path).
    static func ledgerWorkerConfig() throws -> (dir: URL, config: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-workers-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("workers.json").path
        try #"{"handlers": {"ledger": {"kind": "sql", "function": "public.ledger_record", "timeout_s": 10}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        return (dir, config)
    }

    /// Starts `queuetop worker` with DATABASE_URL = `conninfo` (never on the command line), its
    /// stderr appended to `log`. nil concurrency / batch: the CLI's defaults (no flag).
    static func spawnWorker(conninfo: String, queues: [String], config: String, log: String,
                            concurrency: Int? = 8, batch: Int? = 20, extra: [String] = []) throws -> Process {
        var arguments = ["worker", "--queues", queues.joined(separator: ","), "--config", config]
        if let concurrency { arguments += ["--concurrency", "\(concurrency)"] }
        if let batch { arguments += ["--batch-size", "\(batch)"] }
        arguments += extra
        return try QueuetopBinary.start(arguments, environment: ["DATABASE_URL": conninfo], stderrLog: log)
    }

    /// SIGTERM, then SIGKILL if the worker has not exited within `timeout`. Returns whether it
    /// stopped by itself.
    @discardableResult
    static func stopWorker(_ process: Process, timeout: TimeInterval = 20) -> Bool {
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGTERM)
        let exited = eventually(timeout: timeout) { !process.isRunning }
        if !exited { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return exited
    }

    static var binaryIsBuilt: Bool {
        guard FileManager.default.isExecutableFile(atPath: QueuetopBinary.path) else {
            Issue.record("queuetop binary not found at \(QueuetopBinary.path); build it or set QUEUETOP_BIN")
            return false
        }
        return true
    }
}
