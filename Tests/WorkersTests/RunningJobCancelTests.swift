import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// Cancelling a running job end to end (docs/WORKERS.md, "Cancelling a running job"): an
/// operator's cancel reaches the worker that holds the job (NOTIFY queuetop_cancel, or its poll),
/// the handler is stopped (a command's process group killed, an HTTP request aborted, a SQL
/// statement cancelled on the server) and the job ends cancelled (operator) with what the handler
/// had produced, one audit row, never run again.
// Nested in PoolTests so it inherits .serialized: pools, child processes and a time bound.
extension PoolTests {
@Suite("cancel a running job")
struct RunningJobCancelTests {
    /// A stopped handler is gone within the command's grace (2 s) plus the worker learning of it
    /// (under 1 s); asserted with a wide margin for a loaded 2-core machine.
    static let stopBound: TimeInterval = 15

    static func pool(_ db: TestDatabase, _ handlers: [String: any JobHandler]) -> WorkerPool {
        PoolFixture.pool(db, queues: ["cancel"], concurrency: 2, batch: 2, handlers: HandlerTable(bindings: handlers))
    }

    static func status(_ conn: Connection, _ id: UUID) throws -> (String, String?) {
        let row = try conn.query("SELECT status, cancel_reason FROM \(qt: "job_queue") WHERE id = \(id)").first!
        return (try row.decode(0), try row.decode(1))
    }

    static func running(_ conn: Connection, _ id: UUID) throws -> Bool {
        try status(conn, id).0 == "processing"
    }

    /// Gone, or a zombie nobody has reaped yet (it runs nothing any more).
    static func processGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? true
    }

    /// A folder for the command's files (its pid, a marker that it started).
    static func scratchFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-cancel-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func auditRows(_ conn: Connection, _ id: UUID) throws -> Int {
        try PoolFixture.count(conn, "SELECT count(*)::int FROM \(qt: "audit_log") WHERE action = 'job.cancel' AND filter->'ids' ? \(id.uuidString.lowercased())")
    }

    @Test func aCommandsProcessGroupIsKilledAndTheJobEndsCancelledWithItsPartialOutput() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dir = try Self.scratchFolder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let pidFile = dir.appendingPathComponent("child.pid").path
            // The shell starts a grandchild (sleep) in the same process group and waits for it.
            let command = CommandHandler(argv: ["/bin/sh", "-c", "echo partial-output; sleep 300 & echo $! > \(pidFile); wait"], timeout: 600)
            let pool = Self.pool(db, ["cmd": command])
            try pool.start()
            defer { pool.stop(grace: 1) }
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "cancel", type: "cmd")).id
            #expect(try PoolFixture.eventually(timeout: 30) {
                FileManager.default.fileExists(atPath: pidFile) && (try? String(contentsOfFile: pidFile, encoding: .utf8))?.contains("\n") == true
            }, "the command started")
            let child = pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            #expect(!Self.processGone(child))
            #expect(try Self.running(conn, id))

            #expect(try JobStore(connection: conn).cancel(id: id) == .cancelling)
            #expect(PoolFixture.eventually(timeout: Self.stopBound) { Self.processGone(child) }, "sleep 300 still runs")
            #expect(try PoolFixture.eventually(timeout: Self.stopBound) { try Self.status(conn, id).0 == "cancelled" })
            #expect(try Self.status(conn, id) == ("cancelled", "operator"))
            let row = try conn.query("""
                SELECT attempt_count, error_type, error_details->>'stdout_partial', locked_by IS NULL
                FROM \(qt: "job_queue") WHERE id = \(id)
                """).first!
            #expect(try row.decode(0, as: Int.self) == 0)
            #expect(try row.decode(1, as: String.self) == "cancelled")
            #expect(try row.decode(2, as: String?.self)?.contains("partial-output") == true)
            #expect(try row.decode(3, as: Bool.self))
            #expect(try Self.auditRows(conn, id) == 1)
            // Not run again: nothing else is claimed, and the breaker took no failure.
            Thread.sleep(forTimeInterval: 1)
            #expect(try Self.status(conn, id).0 == "cancelled")
            #expect(pool.snapshot().queues.first { $0.name == "cancel" }?.breaker == "closed")
        }
    }

    @Test func anHTTPRequestThatNeverAnswersIsAborted() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let server = try LoopbackHTTPServer()
            defer { server.shutdown() }
            let pool = Self.pool(db, ["call": HTTPHandler(url: server.url("/hang"), timeout: 600)])
            try pool.start()
            defer { pool.stop(grace: 1) }
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "cancel", type: "call")).id
            #expect(PoolFixture.eventually(timeout: 30) { server.requests.count == 1 }, "the request was sent")
            try JobStore(connection: conn).cancel(id: id)
            #expect(try PoolFixture.eventually(timeout: Self.stopBound) { try Self.status(conn, id).0 == "cancelled" })
            #expect(try Self.status(conn, id) == ("cancelled", "operator"))
            #expect(PoolFixture.eventually(timeout: Self.stopBound) { server.abandoned == 1 }, "the connection was not closed")
            #expect(try Self.auditRows(conn, id) == 1)
        }
    }

    @Test func aSQLStatementIsCancelledOnTheServerAndItsBackendWasShownWhileItRan() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            let pool = Self.pool(db, ["ledger": SQLHandler(mode: .function("public.ledger_record"), timeout: 600, database: db.config)])
            try pool.start()
            defer { pool.stop(grace: 1) }
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "cancel", type: "ledger", payload: JSONText(#"{"k":"a","sleep_s":300}"#))).id
            // The worker records the handler's backend within about a second of the start.
            var pid: Int?
            #expect(try PoolFixture.eventually(timeout: 30) {
                pid = try JobStore(connection: conn).inspect(id: id)?.handlerBackendPID
                return pid != nil
            }, "no backend recorded")
            guard let pid else { return }
            // The job view's link: that backend sleeps in pg_sleep (the test runs as a superuser).
            #expect(try PoolFixture.eventually(timeout: 10) {
                try JobStore(connection: conn).backend(pid: pid)?.waitEvent == "PgSleep"
            })
            let backend = try JobStore(connection: conn).backend(pid: pid)
            #expect(backend?.visible == true && backend?.state == "active" && backend?.waitEventType == "Timeout")

            try JobStore(connection: conn).cancel(id: id)
            #expect(try PoolFixture.eventually(timeout: Self.stopBound) { try Self.status(conn, id).0 == "cancelled" })
            #expect(try Self.status(conn, id) == ("cancelled", "operator"))
            // The statement is gone from the server (cancelled, not left to sleep 300 s).
            #expect(try PoolFixture.count(conn, """
                SELECT count(*)::int FROM pg_stat_activity WHERE pid = \(pid) AND state = 'active' AND query LIKE '%ledger_record%'
                """) == 0)
            #expect(try JobStore(connection: conn).inspect(id: id)?.handlerBackendPID == nil)
            #expect(try Self.auditRows(conn, id) == 1)
        }
    }

    /// Attacker's view: any role that can connect may NOTIFY any channel, so a producer (or a
    /// viewer) who knows a job id sends `NOTIFY queuetop_cancel, '<id>'` without cancel_job's
    /// checks and audit row. The worker must check with the database first and leave the job
    /// running. The operator's real cancel of a second job, notified after the forged one on the
    /// same channel, shows the worker has read past the forgery (no blind wait).
    @Test func aForgedCancelNotificationFromAProducerStopsNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let pool = Self.pool(db, ["cmd": CommandHandler(argv: ["/bin/sh", "-c", "exec sleep 300"], timeout: 600)])
            try pool.start()
            defer { pool.stop(grace: 1) }
            let store = JobStore(connection: conn)
            let target = try store.enqueue(NewJob(queue: "cancel", type: "cmd")).id
            let other = try store.enqueue(NewJob(queue: "cancel", type: "cmd")).id
            #expect(try PoolFixture.eventually(timeout: 30) { try Self.running(conn, target) && Self.running(conn, other) })

            try db.withLoginRole(in: "queuetop_producer") { config, _ in
                let producer = try Connection.connect(config)
                defer { producer.close() }
                // NOTIFY takes no bind parameter; the id is a UUID this test made.
                try producer.execute("NOTIFY queuetop_cancel, '\(unsafeRaw: target.uuidString.lowercased())'")
                try producer.execute("SELECT pg_notify('queuetop_cancel', \(target.uuidString.lowercased()))")
            }
            try store.cancel(id: other)
            #expect(try PoolFixture.eventually(timeout: Self.stopBound) { try Self.status(conn, other).0 == "cancelled" })
            #expect(try Self.status(conn, target) == ("processing", nil), "a NOTIFY alone cancelled a running job")
            #expect(try Self.auditRows(conn, target) == 0)
        }
    }

    /// A notification can be lost (the listener was reconnecting; LISTEN does not work behind a
    /// transaction pooler): the worker's poll of worker_cancel_requests finds the request anyway.
    @Test func aCancelWhoseNotificationWasLostIsFoundByThePoll() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dir = try Self.scratchFolder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let started = dir.appendingPathComponent("started").path
            let pool = Self.pool(db, ["cmd": CommandHandler(argv: ["/bin/sh", "-c", "touch \(started); exec sleep 300"], timeout: 600)])
            try pool.start()
            defer { pool.stop(grace: 1) }
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "cancel", type: "cmd")).id
            #expect(PoolFixture.eventually(timeout: 30) { FileManager.default.fileExists(atPath: started) })
            // The request without its NOTIFY, as if the notification never arrived.
            try conn.execute("UPDATE \(qt: "job_queue") SET cancel_requested_at = now() WHERE id = \(id)")
            #expect(try PoolFixture.eventually(timeout: WorkerPool.cancelPollWithListen + Self.stopBound) {
                try Self.status(conn, id).0 == "cancelled"
            })
        }
    }
}
}
