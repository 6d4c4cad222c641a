@testable import DashboardRuntime
import Dashboard
import Foundation
import JobFilter
import Postgres
import QueueStore
import TestSupport
import Testing

/// A confirmed Jobs-screen bulk action runs beside the database thread: progress after each
/// batch, the screen's loads still answered meanwhile, Esc (`.stopBulk`) ends it between batches
/// with the audit row saying how far it got, and quitting stops it the same way.
@Suite struct BulkJobRunnerTests {
    static func cancelled(_ conn: Connection) throws -> Int {
        try conn.query("SELECT count(*)::int FROM job_queue WHERE queue = 'bulk' AND status = 'cancelled'").scalar()
    }

    @Test func progressArrivesLoadsStillAnswerAndStopEndsItBetweenBatches() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let total = 8_000
            try conn.execute("SELECT enqueue_job('bulk', 'send') FROM generate_series(1, \(total))")
            let asOf = try DLQStore(connection: conn).now()
            let harness = RunnerHarness(db.config)
            let action = OperatorAction.jobsByFilter(.cancel, try JobFilter.parse("queue:bulk"), asOf: asOf)
            let first = harness.post([.perform(action)]) { if case .bulkProgressed(let p) = $0 { p } else { nil } }
            // (Its total is the reducer's business: the count the operator confirmed.)
            #expect(first.map { $0.action == .cancel && $0.done > 0 } == true, "\(String(describing: first))")
            // The database thread is free: a refresh answers while the batches run.
            let snapshot = harness.post([.refresh]) { if case .snapshotLoaded(let s, _) = $0 { s } else { nil } }
            #expect(snapshot != nil)
            let ended = harness.post([.stopBulk], timeout: 60) { if case .bulkEnded(let text, let failed, _) = $0 { (text, failed) } else { nil } }
            guard let (text, failed) = ended else { Issue.record("no end"); return }
            #expect(!failed)
            let done = try Self.cancelled(conn)
            let audit = try conn.query("""
                SELECT affected::int, coalesce(filter->>'outcome', ''), coalesce((filter->>'done')::int, -1)
                FROM audit_log WHERE action = 'jobs.cancel'
                """).map { (try $0.decode(0, as: Int.self), try $0.decode(1, as: String.self), try $0.decode(2, as: Int.self)) }
            #expect(audit.count == 1)
            if text.hasPrefix("stopped: ") {
                #expect(done < total && text.hasPrefix("stopped: cancelled \(JobBulkProgress.grouped(done)) jobs matching queue:bulk"), "\(text)")
                #expect(audit.first.map { $0 == (done, "stopped", done) } == true, "\(audit)")
            } else {
                #expect(done == total && text.hasPrefix("cancelled 8,000 jobs matching queue:bulk"), "\(text)")
            }
        }
    }

    @Test func quittingStopsARunningBulkActionAndWaitsForIt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("SELECT enqueue_job('bulk', 'send') FROM generate_series(1, 8000)")
            let asOf = try DLQStore(connection: conn).now()
            let inbox = Inbox(wake: {})
            let runner = EffectRunner(database: db.config, actor: "tester@testhost", readOnly: false, inbox: inbox)
            runner.start()
            runner.post([.perform(.jobsByFilter(.cancel, try JobFilter.parse("queue:bulk"), asOf: asOf))])
            let deadline = Date().addingTimeInterval(30)
            var seen: [Message] = []
            while Date() < deadline, !seen.contains(where: { if case .bulkProgressed = $0 { true } else { false } }) {
                seen += inbox.drain()
                Thread.sleep(forTimeInterval: 0.02)
            }
            #expect(runner.stop(timeout: 30), "the bulk thread ended")
            seen += inbox.drain()
            let ends = seen.compactMap { if case .bulkEnded(let t, _, _) = $0 { t } else { nil } }
            #expect(ends.count == 1, "\(ends)")
            let done = try Self.cancelled(conn)
            let outcome: [String] = try conn.query("SELECT coalesce(filter->>'outcome', '') FROM audit_log WHERE action = 'jobs.cancel'").map { try $0.decode(0) }
            // Stopped on quit (or, on a fast machine, finished first): never left half-recorded.
            #expect(outcome == (done < 8_000 ? ["stopped"] : [""]), "\(outcome) \(done)")
        }
    }
}
