import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Cancelling a running job, at the SQL layer (20_jobs.sql, 60_workers.sql, 0020): the request
/// and its audit row, how each way a running job can end (the worker's failure report, its
/// release at shutdown, the dead-worker sweep, the visibility-timeout backstop) ends a
/// cancel-requested job cancelled instead of running it again, and who may ask.
@Suite struct RunningJobCancelSQLTests {
    func refusal(_ conn: Connection, _ sql: Query) -> String? {
        do { _ = try conn.query(sql); return nil } catch let error as PostgresError { return error.sqlState ?? "connection" } catch { return "\(error)" }
    }

    func count(_ conn: Connection, _ sql: Query) throws -> Int { try conn.query(sql).scalar(Int.self) }

    /// One job claimed by `worker`, running.
    func running(_ conn: Connection, worker: String = "w-1", queue: String = "cq") throws -> UUID {
        let id = try JobStore(connection: conn).enqueue(NewJob(queue: queue, type: "long")).id
        let claimed = try JobStore(connection: conn).claim(worker: worker, queues: [queue], max: 1)
        #expect(claimed.map(\.id.uuid) == [id])
        return id
    }

    func state(_ conn: Connection, _ id: UUID) throws -> (status: String, reason: String?, attempts: Int, message: String?) {
        let r = try conn.query("""
            SELECT status, cancel_reason, attempt_count, error_message FROM \(qt: "job_queue") WHERE id = \(id)
            """).first!
        return (try r.decode(0), try r.decode(1), try r.decode(2), try r.decode(3))
    }

    @Test func cancellingARunningJobMarksItNotifiesAndAuditsOnce() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let listener = try db.connect()
            defer { listener.close() }
            try listener.listen("queuetop_cancel")
            let id = try running(conn)
            #expect(try JobStore(connection: conn).cancel(id: id) == .cancelling)
            // Still processing: the worker ends it once the handler has stopped.
            #expect(try state(conn, id).status == "processing")
            #expect(try WorkerStore(connection: conn, workerID: "w-1").cancelRequests().map(\.uuid) == [id])
            #expect(try WorkerStore(connection: conn, workerID: "w-2").cancelRequests().isEmpty)
            let notified = try listener.waitForNotifications(timeout: 2)
            #expect(notified.map(\.payload) == [id.uuidString.lowercased()])
            // A second request changes nothing and says why; so does a finished job.
            #expect(refusal(conn, "SELECT \(qt: "cancel_running_job")(\(id))") == "55000")
            #expect(refusal(conn, "SELECT \(qt: "cancel_running_job")(\(UUID()))") == "P0002")
            #expect(try count(conn, "SELECT count(*)::int FROM \(qt: "audit_log") WHERE action = 'job.cancel'") == 1)
            let filter: String = try conn.query("SELECT filter::text FROM \(qt: "audit_log") WHERE action = 'job.cancel'").scalar()
            #expect(filter.contains("\"running\": true") && filter.contains("w-1"))

            // The stopped handler's report ends it cancelled (operator), no attempt counted,
            // its partial output kept (URL credentials removed, as for failures).
            let failure = JobFailure(id: JobID(id), message: "sleep stopped", errorType: "cancelled",
                                     details: JSONText(#"{"stdout_partial": "half https://u:secret@x.example/y"}"#), retryable: true)
            #expect(try JobStore(connection: conn).fail(worker: "w-1", [failure]) == 1)
            let s = try state(conn, id)
            #expect(s.status == "cancelled" && s.reason == "operator" && s.attempts == 0)
            #expect(s.message == "cancelled by an operator while running: sleep stopped")
            let details: String = try conn.query("SELECT error_details::text FROM \(qt: "job_queue") WHERE id = \(id)").scalar()
            #expect(details.contains("half https://x.example/y") && !details.contains("secret"))
            #expect(refusal(conn, "SELECT \(qt: "cancel_job")(\(id))") == "55000")
            #expect(try count(conn, "SELECT count(*)::int FROM \(qt: "audit_log") WHERE action = 'job.cancel'") == 1)
        }
    }

    @Test func aPendingJobIsCancelledAtOnceAndAFinishedOneIsRefused() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let pending = try jobs.enqueue(NewJob(queue: "cq", type: "t")).id
            #expect(try jobs.cancel(id: pending) == .cancelled)
            #expect(try state(conn, pending).status == "cancelled")
            let done = try running(conn)
            try jobs.complete(worker: "w-1", ids: [JobID(done)])
            #expect(refusal(conn, "SELECT \(qt: "cancel_running_job")(\(done))") == "55000")
            #expect(refusal(conn, "SELECT \(qt: "cancel_running_job")(NULL)") == "22023")
            #expect(try state(conn, done).status == "completed")
            #expect(try count(conn, "SELECT count(*)::int FROM \(qt: "audit_log") WHERE action = 'job.cancel'") == 1)
        }
    }

    @Test func aJobThatCompletesBeforeItsHandlerIsStoppedStaysCompleted() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try running(conn)
            try JobStore(connection: conn).cancel(id: id)
            #expect(try JobStore(connection: conn).complete(worker: "w-1", ids: [JobID(id)]) == 1)
            #expect(try state(conn, id).status == "completed")
        }
    }

    @Test func releaseAtShutdownEndsACancelRequestedJobInsteadOfHandingItBack() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let cancelled = try running(conn)
            let other = try running(conn)
            try JobStore(connection: conn).cancel(id: cancelled)
            #expect(try JobStore(connection: conn).release(worker: "w-1", ids: [JobID(cancelled), JobID(other)]) == 2)
            #expect(try state(conn, cancelled).status == "cancelled")
            #expect(try state(conn, cancelled).reason == "operator")
            #expect(try state(conn, other).status == "pending")
        }
    }

    @Test func aDeadWorkersCancelRequestedJobIsNotRerun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try WorkerStore(connection: conn, workerID: "w-dead").register(host: "h", pid: 1, queues: ["cq"], concurrency: 2)
            let cancelled = try running(conn, worker: "w-dead")
            let plain = try running(conn, worker: "w-dead")
            try JobStore(connection: conn).cancel(id: cancelled)
            // The worker and its leases have been silent for longer than worker_silence_limit().
            try conn.execute("UPDATE \(qt: "workers") SET last_seen = now() - interval '5 minutes' WHERE id = 'w-dead'")
            try conn.execute("UPDATE \(qt: "job_queue") SET heartbeat_at = now() - interval '5 minutes', started_at = now() - interval '5 minutes'")
            #expect(try JobStore(connection: conn).rescueStale() == 2)
            let c = try state(conn, cancelled)
            #expect(c.status == "cancelled" && c.reason == "operator" && c.attempts == 0)
            #expect(c.message?.contains("died") == true)
            #expect(try state(conn, plain).status == "pending")
            // Nothing claims it again.
            #expect(try JobStore(connection: conn).claim(worker: "w-2", queues: ["cq"], max: 10).map(\.id.uuid) == [plain])
            let audit: String = try conn.query("SELECT filter::text FROM \(qt: "audit_log") WHERE action = 'worker.dead'").scalar()
            #expect(audit.contains(cancelled.uuidString.lowercased()))
        }
    }

    @Test func theVisibilityTimeoutBackstopEndsACancelRequestedJobToo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // A holder that never registered: only the backstop (visibility timeout) finds it.
            let cancelled = try running(conn, worker: "ghost")
            let plain = try running(conn, worker: "ghost")
            try JobStore(connection: conn).cancel(id: cancelled)
            try conn.execute("UPDATE \(qt: "job_queue") SET heartbeat_at = now() - interval '1 hour', started_at = now() - interval '1 hour'")
            #expect(try JobStore(connection: conn).rescueStale() == 2)
            #expect(try state(conn, cancelled).status == "cancelled")
            #expect(try state(conn, cancelled).attempts == 0)
            let p = try state(conn, plain)
            #expect(p.status == "pending" && p.attempts == 1)
        }
    }

    @Test func theHandlerBackendIsRecordedForHeldJobsOnlyAndClearedWhenTheJobEnds() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let id = try running(conn)
            let worker = WorkerStore(connection: conn, workerID: "w-1")
            #expect(try worker.recordHandlerBackends(ids: [JobID(id)], pids: [Int(conn.backendPID)]) == 1)
            #expect(try WorkerStore(connection: conn, workerID: "w-other").recordHandlerBackends(ids: [JobID(id)], pids: [1]) == 0)
            #expect(refusal(conn, "SELECT \(qt: "record_handler_backends")('w-1', ARRAY[\(id)]::uuid[], ARRAY[-4])") == "22023")
            #expect(refusal(conn, "SELECT \(qt: "record_handler_backends")('w-1', ARRAY[\(id)]::uuid[], ARRAY[1, 2])") == "22023")
            let inspected = try JobStore(connection: conn).inspect(id: id)
            #expect(inspected?.handlerBackendPID == Int(conn.backendPID))
            // This very connection: visible to its own role, active (running the query).
            let backend = try JobStore(connection: conn).backend(pid: Int(conn.backendPID))
            #expect(backend?.visible == true && backend?.state == "active")
            try JobStore(connection: conn).complete(worker: "w-1", ids: [JobID(id)])
            #expect(try JobStore(connection: conn).inspect(id: id)?.handlerBackendPID == nil)
            #expect(try JobStore(connection: conn).backend(pid: 999_999) == nil)
        }
    }

    @Test func viewerProducerAndWorkerCannotCancelAndOnlyTheWorkerReadsCancelRequests() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let id = try running(owner)
            for role in ["queuetop_viewer", "queuetop_producer", "queuetop_worker"] {
                try db.withLoginRole(in: role) { config, _ in
                    let conn = try Connection.connect(config)
                    defer { conn.close() }
                    #expect(refusal(conn, "SELECT \(qt: "cancel_running_job")(\(id))") == "42501", "\(role) cancelled")
                    #expect(refusal(conn, "SELECT \(qt: "cancel_job")(\(id))") == "42501", "\(role) cancelled")
                    #expect(refusal(conn, "UPDATE \(qt: "job_queue") SET cancel_requested_at = now()") == "42501")
                    if role != "queuetop_worker" {
                        #expect(refusal(conn, "SELECT * FROM \(qt: "worker_cancel_requests")('w-1')") == "42501")
                        #expect(refusal(conn, "SELECT \(qt: "record_handler_backends")('w-1', ARRAY[\(id)]::uuid[], ARRAY[5])") == "42501")
                    }
                }
            }
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let conn = try Connection.connect(config)
                defer { conn.close() }
                #expect(refusal(conn, "SELECT * FROM \(qt: "worker_cancel_requests")('w-1')") == "42501")
                #expect(try JobStore(connection: conn).cancel(id: id) == .cancelling)
            }
            #expect(try count(owner, "SELECT count(*)::int FROM \(qt: "audit_log") WHERE action = 'job.cancel'") == 1)
        }
    }

    @Test func shortIDsOfJobsCreatedInOneMillisecondDifferAndResolve() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            // One statement: the same clock millisecond for most of them, the same second for all.
            let ids = try jobs.enqueue((0..<20).map { _ in NewJob(queue: "cq", type: "t") }).map(\.id)
            let prefixes = Set(ids.map { String($0.uuidString.lowercased().prefix(8)) })
            let shorts = ids.map(ShortJobID.of)
            #expect(prefixes.count < 3, "the old short ids (the clock) were the same")
            #expect(Set(shorts).count == 20)
            for (id, short) in zip(ids, shorts) {
                #expect(try jobs.lookUp(short) == .found(id))
                #expect(try jobs.lookUp(short.uppercased()) == .found(id))
                // Any suffix with dashes, a prefix long enough to be unique, the whole id.
                let text = id.uuidString.lowercased()
                #expect(try jobs.lookUp(String(text.suffix(17))) == .found(id))
                #expect(try jobs.lookUp(String(text.prefix(23))) == .found(id))
                #expect(try jobs.lookUp(text) == .found(id))
            }
            // The clock prefix every one of them shares is ambiguous; nothing else matches.
            guard case .ambiguous(let n, _) = try jobs.lookUp(String(ids[0].uuidString.lowercased().prefix(6))) else {
                Issue.record("a shared prefix was not ambiguous"); return
            }
            #expect(n == 20)
            #expect(try jobs.lookUp("ffffffffffff") == .noMatch)
            #expect(JobLookup.ambiguous(count: 20, sample: ids).refusal(for: "01a2")?.hasPrefix("ambiguous: 20 jobs match") == true)
            #expect(JobLookup.noMatch.refusal(for: "beef")?.hasPrefix("no job matches 'beef'") == true)
            for bad in ["abc", "xyz12", "12345678-zz", String(repeating: "a", count: 33), "a\u{1b}[2Jbcd"] {
                #expect(throws: QueueStoreError.self) { try jobs.lookUp(bad) }
                #expect(refusal(conn, "SELECT * FROM \(qt: "find_job_ids")(\(bad))") == "22023")
            }
        }
    }
}
