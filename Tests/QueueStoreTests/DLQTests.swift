import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

@Suite struct DLQTests {
    @Test func racingBulkRequeuesRequeueEachJobOnceAndCountsAddUp() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            defer { setup.close() }
            _ = try JobFixtures.deadLetters(setup, 3000)
            _ = try JobFixtures.deadLetters(setup, 5, type: "other")
            let asOf = try DLQStore(connection: setup).now()
            let counts = try OnThreads.run(2) { _ in
                let conn = try db.connect()
                defer { conn.close() }
                return try DLQStore(connection: conn).requeueAll(
                    DLQFilter(queue: "emails", errorType: "smtp_error"), asOf: asOf, batchSize: 100).affected
            }.reduce(0, +)
            #expect(counts == 3000)
            let left: Int = try setup.query("SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'").scalar()
            #expect(left == 5)
            let audited: Int = try setup.query("SELECT sum(affected)::int FROM audit_log WHERE action = 'dlq.requeue'").scalar()
            let rows: Int = try setup.query("SELECT count(*)::int FROM audit_log WHERE action = 'dlq.requeue'").scalar()
            #expect(audited == 3000 && rows == 2)
        }
    }

    @Test func requeueProcedureTakesWhatWasThereAtAsOfInBatchesAsOneAuditedAction() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dlq = DLQStore(connection: conn)
            let previewed = try JobFixtures.deadLetters(conn, 5)
            _ = try JobFixtures.deadLetters(conn, 2, type: "other")
            let asOf = try dlq.now()
            let filter = DLQFilter(queue: "emails", errorType: "smtp_error")
            #expect(try dlq.count(filter, asOf: asOf) == 5)
            let arrivedLater = try JobFixtures.deadLetters(conn, 3)  // after the operator's preview

            // psql users: CALL, batches of 2, one commit per batch.
            let requeued: Int = try conn.run("CALL requeue_dlq('emails', 'smtp_error', true, \(asOf)::timestamptz, 2, NULL)")
                .scalar()
            #expect(requeued == 5)
            func statuses(_ ids: [UUID]) throws -> [String] {
                try conn.query("SELECT status FROM job_queue WHERE id = ANY(\(ids)::uuid[]) GROUP BY status").map { try $0.decode(0) }
            }
            #expect(try statuses(previewed) == ["pending"])
            #expect(try statuses(arrivedLater) == ["dead_letter"])
            let reset: Int = try conn.query("SELECT max(attempt_count)::int FROM job_queue WHERE id = ANY(\(previewed)::uuid[])").scalar()
            #expect(reset == 0)
            let audit = try AuditStore(connection: conn).list(action: "dlq.requeue")
            #expect(audit.count == 1 && audit.first?.affected == 5)
            #expect(audit.first.map { $0.filter.raw.contains(#""queue": "emails""#) && $0.filter.raw.contains(#""error_type": "smtp_error""#) } == true)

            // The Swift bulk path, later: the rest, as its own audited action with its own count.
            let rest = try dlq.requeueAll(filter, asOf: try dlq.now(), batchSize: 2)
            #expect(rest.affected == 3 && rest.batches == 3)
            let audits = try AuditStore(connection: conn).list(action: "dlq.requeue")
            #expect(audits.map(\.affected) == [3, 5] && audits.first?.id == rest.auditID)
            #expect(try dlq.count(DLQFilter(), asOf: try dlq.now()) == 2)  // the other error type stays
        }
    }

    @Test func requeueRespectsAsOfAndDeleteWorks() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobFixtures.deadLetters(conn, 10)
            let dlq = DLQStore(connection: conn)
            let asOf = try dlq.now()
            try conn.query("UPDATE job_queue SET last_error_at = now() + interval '1 minute' WHERE id IN (SELECT id FROM job_queue LIMIT 3)")
            #expect(try dlq.count(DLQFilter(), asOf: asOf) == 7)
            #expect(try dlq.groups().first?.count == 10)
            #expect(try dlq.deleteAll(DLQFilter(queue: "emails"), asOf: asOf, batchSize: 2).affected == 7)
            #expect(try dlq.list().count == 3)
        }
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let dlq = DLQStore(connection: conn)
            let pending = try jobs.enqueue(NewJob(queue: "emails", type: "send")).id
            func total() throws -> Int { try conn.query("SELECT count(*)::int FROM job_queue").scalar() }
            #expect(throws: QueueStoreError.self) { try jobs.enqueue(NewJob(queue: "emails", type: "t", payload: JSONText("not json"))) }
            #expect(throws: QueueStoreError.self) { try conn.run("SELECT enqueue_job('emails', 't', \("{oops")::jsonb)") }
            for size in [0, -1, 1_000_000] {
                #expect(throws: QueueStoreError.self) { try dlq.requeueAll(DLQFilter(), asOf: Date(), batchSize: size) }
                #expect(throws: QueueStoreError.self) { try conn.run("SELECT requeue_dlq_batch(NULL, NULL, true, NULL, \(size))") }
                #expect(throws: QueueStoreError.self) { try jobs.claim(worker: "w", queues: nil, max: size) }
            }
            do {
                try dlq.requeue(id: pending)
                Issue.record("requeue of a pending job must fail")
            } catch let error as QueueStoreError {
                guard case .conflict(let message) = error else { Issue.record("wrong case \(error)"); return }
                #expect(message.contains("is pending, not dead_letter"))
            }
            #expect(throws: QueueStoreError.notFound("unknown queue \"nope\"; hint: List queues with `queuetop queue list`; a queue is created by enqueueing into it.")) {
                try QueueConfigStore(connection: conn).pause("nope")
            }
            #expect(throws: QueueStoreError.self) { try conn.run("SELECT cancel_job(\("not-a-uuid")::uuid)") }
            #expect(throws: QueueStoreError.self) {
                try jobs.enqueue(NewJob(queue: "emails", type: "t", payload: JSONText("\"" + String(repeating: "x", count: 1_100_000) + "\"")))
            }
            #expect(try total() == 1)
            #expect(try status(conn, pending) == "pending")
            let audits: Int = try conn.query("SELECT count(*)::int FROM audit_log").scalar()
            #expect(audits == 0)
        }
    }

    func status(_ conn: Connection, _ id: UUID) throws -> String {
        try conn.query("SELECT status FROM job_queue WHERE id = \(id)").scalar()
    }
}
