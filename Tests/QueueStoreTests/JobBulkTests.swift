import Foundation
import JobFilter
import Postgres
import QueueStore
import TestSupport
import Testing

/// Bulk actions by filter: exactly the previewed jobs change, even while new jobs arrive; each
/// action's state rules hold in the database; one audit row per action; roles hold.
@Suite struct JobBulkTests {
    static func statuses(_ conn: Connection, _ ids: [UUID]) throws -> [String] {
        try conn.query("SELECT DISTINCT status FROM job_queue WHERE id = ANY(\(ids)::uuid[]) ORDER BY 1").map { try $0.decode(0) }
    }

    @Test func aCancelByFilterChangesExactlyThePreviewedJobsWhileNewOnesArrive() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let matching = try jobs.enqueue((0..<2500).map { i in
                NewJob(queue: "campaigns", type: "send_campaign", payload: JSONText("{\"n\": \(i)}"), tenant: "shop-9")
            }).map(\.id)
            let otherTenant = try jobs.enqueue((0..<50).map { _ in NewJob(queue: "campaigns", type: "send_campaign", tenant: "shop-1") }).map(\.id)
            let otherType = try jobs.enqueue((0..<50).map { _ in NewJob(queue: "campaigns", type: "send_email", tenant: "shop-9") }).map(\.id)
            let bulk = JobBulkStore(connection: conn)
            let filter = try JobFilter.parse("type:send_campaign tenant:shop-9")
            let preview = try bulk.preview(.cancel, filter: filter)
            #expect(preview.count == 2500)
            #expect(preview.sample.count == 5 && preview.sample.allSatisfy { $0.jobType == "send_campaign" && $0.tenant == "shop-9" })

            // A producer keeps enqueueing matching jobs while the cancel runs.
            let stop = Flag()
            let producer = Thread {
                guard let c = try? db.connect() else { return }
                defer { c.close() }
                while !stop.isSet {
                    _ = try? JobStore(connection: c).enqueue((0..<20).map { _ in
                        NewJob(queue: "campaigns", type: "send_campaign", tenant: "shop-9")
                    })
                }
                stop.done()
            }
            producer.start()
            Thread.sleep(forTimeInterval: 0.2)
            var progress: [Int] = []
            let result = try bulk.apply(preview, batchSize: 300, progress: { progress.append($0.done) })
            stop.set()
            stop.waitDone()

            #expect(result.affected == 2500)
            #expect(progress.last == 2500 && progress.count >= 9)
            #expect(try Self.statuses(conn, matching) == ["cancelled"])
            #expect(try Self.statuses(conn, otherTenant + otherType) == ["pending"])
            let reasons: [String] = try conn.query("SELECT DISTINCT cancel_reason FROM job_queue WHERE id = ANY(\(matching)::uuid[])").map { try $0.decode(0) }
            #expect(reasons == ["operator"])
            let arrived: Int = try conn.query("""
                SELECT count(*)::int FROM job_queue WHERE tenant = 'shop-9' AND job_type = 'send_campaign' AND status = 'pending'
                """).scalar()
            #expect(arrived > 0)  // the jobs that arrived during the action are all still pending
            let cancelledLater: Int = try conn.query("""
                SELECT count(*)::int FROM job_queue WHERE status = 'cancelled' AND created_at > \(preview.asOf)::timestamptz
                """).scalar()
            #expect(cancelledLater == 0)

            let audit = try AuditStore(connection: conn).list(action: "jobs.cancel")
            #expect(audit.count == 1)
            #expect(audit.first?.affected == 2500)
            #expect(audit.first?.filter.raw.contains("type:send_campaign tenant:shop-9") == true)
        }
    }

    /// Issue 18: large sets run in batches that never stall claims. A batch's transaction holds
    /// row locks on the jobs it cancels; a worker claiming the same queue meanwhile skips those
    /// rows and takes the others at once, on the plain path and on a concurrency-limited queue
    /// (whose claim locks the queue's row). `lock_timeout` makes any wait an error, not a delay.
    @Test func aBulkBatchInFlightNeverMakesAClaimWait() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            let worker = try db.connect()
            defer { conn.close(); worker.close() }
            let jobs = JobStore(connection: conn)
            for queue in ["plain", "limited"] {
                _ = try jobs.enqueue((0..<40).map { _ in NewJob(queue: queue, type: "t", tenant: "shop-9") })
                _ = try jobs.enqueue((0..<10).map { _ in NewJob(queue: queue, type: "t", tenant: "shop-1") })
            }
            _ = try QueueConfigStore(connection: conn).setConcurrency("limited", 1000)
            let bulk = JobBulkStore(connection: conn)
            let preview = try bulk.preview(.cancel, filter: try JobFilter.parse("tenant:shop-9"))
            #expect(preview.count == 80)
            let filter = "{\"where\":\"tenant:shop-9\",\"as_of\":\"\(PostgresTimestamp.format(preview.asOf))\"}"
            let audit = try AuditStore(connection: conn).begin(action: "jobs.cancel", filter: JSONText(filter))
            let ids: [UUID] = try conn.query("SELECT id FROM job_queue WHERE tenant = 'shop-9'").map { try $0.decode(0) }
            try worker.executeScript("SET lock_timeout = '20ms'")
            let workerJobs = JobStore(connection: worker)
            try conn.transaction { tx in
                let changed: Int = try tx.query("""
                    SELECT jobs_bulk_apply('cancel', \(ids)::uuid[], \(preview.asOf)::timestamptz, \(audit))
                    """).scalar()
                #expect(changed == 80)
                // The batch is not committed: its 80 rows are locked. Claims take the 20 others.
                for queue in ["plain", "limited"] {
                    let claimed = try workerJobs.claim(worker: "w", queues: [queue], max: 50)
                    #expect(claimed.count == 10 && claimed.allSatisfy { $0.tenant == "shop-1" }, "\(queue): \(claimed.count)")
                }
            }
            #expect(try Self.statuses(conn, ids) == ["cancelled"])
        }
    }

    @Test func eachActionTouchesOnlyTheStatesItsRulesAllow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobSearchTests.seed(conn)
            let bulk = JobBulkStore(connection: conn)
            func run(_ action: JobBulkAction, _ text: String, priority: Int? = nil) throws -> Int {
                let preview = try bulk.preview(action, filter: try JobFilter.parse(text))
                return try bulk.apply(preview, priority: priority, batchSize: 7).affected
            }
            func count(_ condition: String) throws -> Int {
                try conn.query("SELECT count(*)::int FROM job_queue WHERE \(unsafeRaw: condition)").scalar()
            }
            // Nothing running, completed or dead is cancelled, run now or reprioritised.
            let running = try count("status = 'processing'")
            #expect(try run(.cancel, "state:running") == 0)
            #expect(try run(.runNow, "state:dead") == 0)
            #expect(try run(.delete, "state:pending") == 0)
            #expect(try run(.requeue, "state:completed") == 0)
            #expect(try count("status = 'processing'") == running)

            let scheduled = try count("status = 'pending' AND run_at > now() AND attempt_count = 0")
            #expect(try run(.priority, "state:scheduled", priority: 7) == scheduled)
            #expect(try count("priority = 7") == scheduled)
            let retrying = try count("status = 'pending' AND next_retry_at > now()")
            let retryingEmails = try count("status = 'pending' AND next_retry_at > now() AND queue = 'emails'")
            #expect(try run(.runNow, "state:retrying queue:emails") == retryingEmails)
            #expect(try count("status = 'pending' AND next_retry_at > now()") < retrying)

            let deadEmails = try count("status = 'dead_letter' AND queue = 'emails'")
            #expect(try run(.requeue, "queue:emails state:dead") == deadEmails)
            #expect(try count("status = 'dead_letter' AND queue = 'emails'") == 0)
            #expect(try count("status = 'pending' AND queue = 'emails' AND attempt_count = 0 AND error_type = 'smtp_error'") == deadEmails)

            let cancelled = try count("status = 'cancelled'")
            let completed = try count("status = 'completed'")
            #expect(try run(.delete, "-state:dead -state:running -state:pending -state:scheduled -state:retrying") == cancelled + completed)
            #expect(try count("status IN ('cancelled', 'completed')") == 0)
            let actions = try AuditStore(connection: conn).list().map(\.action)
            #expect(actions.filter { $0.hasPrefix("jobs.") }.count == 8)  // one row per action, even the empty ones
        }
    }

    @Test func theDatabaseEnforcesRulesWhateverIdsAClientSends() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            try JobSearchTests.seed(owner)
            let running: [UUID] = try owner.query("SELECT id FROM job_queue WHERE status = 'processing'").map { try $0.decode(0) }
            let pending: [UUID] = try owner.query("SELECT id FROM job_queue WHERE status = 'pending' AND next_retry_at IS NULL AND run_at <= now()").map { try $0.decode(0) }
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let viewer = try Connection.connect(config)
                defer { viewer.close() }
                // The viewer searches and counts; it cannot act, nor open the audit row.
                #expect(try JobSearchStore(connection: viewer).count(try JobFilter.parse("state:running")).value == running.count)
                #expect(throws: (any Error).self) { try JobBulkStore(connection: viewer).apply(
                    try JobBulkStore(connection: viewer).preview(.cancel, filter: JobFilter())) }
                let sqlState = (try? viewer.query("SELECT \(qt: "jobs_bulk_apply")('cancel', \(pending)::uuid[], now(), NULL)").first) == nil
                #expect(sqlState)
            }
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let op = try Connection.connect(config)
                defer { op.close() }
                let asOf: Date = try op.query("SELECT now()").scalar()
                let audit: Int64 = try op.query("""
                    SELECT \(qt: "record_audit")('jobs.cancel', jsonb_build_object('where', 'state:running', 'as_of', \(asOf)::timestamptz), 0)
                    """).scalar()
                // Running jobs sent as ids are not cancelled: the state rule is the database's.
                let n: Int = try op.query("SELECT \(qt: "jobs_bulk_apply")('cancel', \(running)::uuid[], \(asOf)::timestamptz, \(audit))").scalar()
                #expect(n == 0)
                func refusal(_ q: Query) -> String? {
                    do { _ = try op.query(q); return nil } catch let e as PostgresError { return e.sqlState } catch { return "?" }
                }
                // Another action's row, a different as_of, no row, a bad action, a future as_of.
                #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('delete', \(pending)::uuid[], \(asOf)::timestamptz, \(audit))") == "42501")
                #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('cancel', \(pending)::uuid[], \(asOf)::timestamptz - interval '1 s', \(audit))") == "42501")
                #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('cancel', \(pending)::uuid[], \(asOf)::timestamptz, NULL)") == "22023")
                #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('explode', \(pending)::uuid[], \(asOf)::timestamptz, \(audit))") == "22023")
                #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('cancel', \(pending)::uuid[], now() + interval '1 day', \(audit))") == "22023")
                #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('priority', \(pending)::uuid[], \(asOf)::timestamptz, \(audit), 5)") == "42501")
                // Writes to the table itself stay refused.
                #expect(refusal("UPDATE \(qt: "job_queue") SET status = 'cancelled'") == "42501")
                let still: Int = try owner.query("SELECT count(*)::int FROM job_queue WHERE status = 'cancelled' AND id = ANY(\(pending)::uuid[])").scalar()
                #expect(still == 0)
            }
        }
    }

    /// Attacker's view: the audit row's filter text is the client's word, and the ids are what
    /// the client sends. An operator's raw RPC opens a row saying "queue:sandbox" and deletes
    /// the jobs of another queue under it. The row must say what was really changed: the
    /// queues and the ids, written by jobs_bulk_apply itself; a row opened with those keys
    /// already in it (pre-written by the client) is refused and changes nothing.
    @Test func theAuditRowRecordsWhatChangedWhateverFilterTheClientClaims() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            try seedDeadLetters(owner, 3, queue: "billing", type: "charge")
            let victims: [UUID] = try owner.query("SELECT id FROM job_queue WHERE queue = 'billing' ORDER BY id").map { try $0.decode(0) }
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let op = try Connection.connect(config)
                defer { op.close() }
                let asOf: Date = try op.query("SELECT now()").scalar()
                let audit: Int64 = try op.query("""
                    SELECT \(qt: "record_audit")('jobs.delete', jsonb_build_object('where', 'queue:sandbox', 'as_of', \(asOf)::timestamptz), 0)
                    """).scalar()
                let n: Int = try op.query("SELECT \(qt: "jobs_bulk_apply")('delete', \(victims)::uuid[], \(asOf)::timestamptz, \(audit))").scalar()
                #expect(n == 3)
                let row = try #require(try owner.query("""
                    SELECT filter->>'where', filter->'queues', (SELECT array_agg(x::uuid ORDER BY x) FROM jsonb_array_elements_text(filter->'changed_ids') x)
                    FROM audit_log WHERE id = \(audit)
                    """).first)
                #expect(try row.decode(0, as: String.self) == "queue:sandbox")
                #expect(try row.decode(1, as: String.self) == #"["billing"]"#, "the row hides which queue lost its jobs")
                #expect(try row.decode(2, as: [UUID].self) == victims)

                // Pre-written "changed_ids" or "queues": refused before anything changes.
                try seedDeadLetters(owner, 1, queue: "billing", type: "charge")
                let more: [UUID] = try owner.query("SELECT id FROM job_queue WHERE queue = 'billing'").map { try $0.decode(0) }
                let asOf2: Date = try op.query("SELECT now()").scalar()
                let forged: Int64 = try op.query("""
                    SELECT \(qt: "record_audit")('jobs.delete', jsonb_build_object('where', 'queue:sandbox', 'as_of', \(asOf2)::timestamptz,
                                                                                   'queues', '["sandbox"]'::jsonb), 0)
                    """).scalar()
                var state: String?
                do { _ = try op.query("SELECT \(qt: "jobs_bulk_apply")('delete', \(more)::uuid[], \(asOf2)::timestamptz, \(forged))") }
                catch let e as PostgresError { state = e.sqlState }
                #expect(state == "42501")
                #expect(try owner.query("SELECT count(*)::int FROM job_queue WHERE id = ANY(\(more)::uuid[])").scalar(Int.self) == 1)
            }
        }
    }
}

/// A stop flag for the producer thread, and a way to wait for it to finish.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private let finished = DispatchSemaphore(value: 0)
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
    func done() { finished.signal() }
    func waitDone() { finished.wait() }
}
