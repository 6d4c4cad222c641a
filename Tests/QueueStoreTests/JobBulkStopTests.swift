import Foundation
import JobFilter
import Postgres
import QueueStore
import TestSupport
import Testing

/// A bulk action that does not run to the end: stopped between batches by the operator, or
/// stopped by a failing batch. What was done stays done, nothing more changes, and the one audit
/// row says how many were done and why it ended (`jobs_bulk_end`); only its own role may close it.
@Suite struct JobBulkStopTests {
    static func count(_ conn: Connection, _ condition: String) throws -> Int {
        try conn.query("SELECT count(*)::int FROM job_queue WHERE \(unsafeRaw: condition)").scalar()
    }

    /// (affected, outcome, done, reason) of the one jobs.* audit row.
    static func auditRow(_ conn: Connection, _ action: String) throws -> [(Int, String?, Int?, String?)] {
        try conn.query("""
            SELECT affected::int, filter->>'outcome', (filter->>'done')::int, filter->>'reason' FROM audit_log WHERE action = \(action)
            """).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2), try $0.decode(3)) }
    }

    @Test func stoppedBetweenBatchesKeepsWhatWasDoneAndTheAuditRowSaysSo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("SELECT enqueue_job('campaigns', 'send_campaign') FROM generate_series(1, 1000)")
            let bulk = JobBulkStore(connection: conn)
            let preview = try bulk.preview(.cancel, filter: try JobFilter.parse("queue:campaigns"))
            #expect(preview.count == 1000)
            var reports: [JobBulkProgress] = []
            let result = try bulk.apply(preview, batchSize: 100, shouldStop: { reports.count == 3 }) { reports.append($0) }
            #expect(result.stopped && result.affected == 300 && result.batches == 3)
            #expect(reports.map(\.done) == [100, 200, 300] && reports.allSatisfy { $0.total == 1000 && $0.action == .cancel })
            #expect(try Self.count(conn, "status = 'cancelled'") == 300)
            #expect(try Self.count(conn, "status = 'pending'") == 700)
            let rows = try Self.auditRow(conn, "jobs.cancel")
            #expect(rows.count == 1)
            #expect(rows.first.map { $0.0 == 300 && $0.1 == "stopped" && $0.2 == 300 && $0.3 == nil } == true, "\(rows)")

            // A closed row takes no more batches, and is closed once.
            let ids: [UUID] = try conn.query("SELECT id FROM job_queue WHERE status = 'pending' LIMIT 5").map { try $0.decode(0) }
            func refusal(_ q: Query) -> String? {
                do { _ = try conn.query(q); return nil } catch let e as PostgresError { return e.sqlState } catch { return "?" }
            }
            #expect(refusal("SELECT \(qt: "jobs_bulk_apply")('cancel', \(ids)::uuid[], \(preview.asOf)::timestamptz, \(result.auditID))") == "42501")
            #expect(refusal("SELECT \(qt: "jobs_bulk_end")(\(result.auditID), 'failed', 'again')") == "55000")
            #expect(try Self.count(conn, "status = 'cancelled'") == 300)
        }
    }

    @Test func aBatchThatFailsMidwaySaysHowManyWereDone() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("SELECT enqueue_job('campaigns', 'send_campaign') FROM generate_series(1, 500)")
            let bulk = JobBulkStore(connection: conn)
            let preview = try bulk.preview(.priority, filter: try JobFilter.parse("queue:campaigns"))
            // After the second batch another session holds every remaining job's row lock: the
            // third batch waits past its statement timeout and fails.
            let locker = try db.connect()
            defer { locker.close() }
            var batches = 0
            let thrown = #expect(throws: JobBulkInterrupted.self) {
                _ = try bulk.apply(preview, priority: 9, batchSize: 100, batchTimeout: 0.5, progress: { _ in
                    batches += 1
                    if batches == 2 {
                        try? locker.execute("BEGIN")
                        _ = try? locker.query("SELECT id FROM job_queue WHERE priority <> 9 FOR UPDATE")
                    }
                })
            }
            try locker.execute("ROLLBACK")
            #expect(thrown?.done == 200 && thrown?.total == 500)
            #expect(thrown?.description.contains("after 200 of 500 jobs") == true, "\(String(describing: thrown))")
            #expect(try Self.count(conn, "priority = 9") == 200)
            let rows = try Self.auditRow(conn, "jobs.priority")
            #expect(rows.count == 1)
            #expect(rows.first.map { $0.0 == 200 && $0.1 == "failed" && $0.2 == 200 && !($0.3 ?? "").isEmpty } == true, "\(rows)")
        }
    }

    @Test func onlyTheRoleThatOpenedARowMayCloseIt() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            let opened: Int64 = try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let op = try Connection.connect(config)
                defer { op.close() }
                return try op.query("""
                    SELECT \(qt: "record_audit")('jobs.cancel', jsonb_build_object('where', 'queue:x', 'as_of', now()), 0)
                    """).scalar()
            }
            let dlqRow: Int64 = try owner.query("SELECT \(qt: "record_audit")('dlq.requeue', '{}'::jsonb, 0)").scalar()
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let other = try Connection.connect(config)
                defer { other.close() }
                func refusal(_ q: Query) -> String? {
                    do { _ = try other.query(q); return nil } catch let e as PostgresError { return e.sqlState } catch { return "?" }
                }
                // Another operator's row, a row that is no bulk jobs action, an unknown outcome, no row.
                #expect(refusal("SELECT \(qt: "jobs_bulk_end")(\(opened), 'stopped')") == "42501")
                #expect(refusal("SELECT \(qt: "jobs_bulk_end")(\(dlqRow), 'stopped')") == "42501")
                #expect(refusal("SELECT \(qt: "jobs_bulk_end")(\(opened), 'done')") == "22023")
                #expect(refusal("SELECT \(qt: "jobs_bulk_end")(NULL, 'stopped')") == "22023")
            }
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let viewer = try Connection.connect(config)
                defer { viewer.close() }
                #expect((try? viewer.query("SELECT \(qt: "jobs_bulk_end")(\(opened), 'stopped')")) == nil)
            }
            let outcome: String? = try owner.query("SELECT filter->>'outcome' FROM audit_log WHERE id = \(opened)").scalar()
            #expect(outcome == nil)
        }
    }
}
