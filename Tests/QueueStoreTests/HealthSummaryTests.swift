import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The summary the all view and `status --all-contexts` read (`HealthSummary`) says exactly what
/// the whole snapshot says about the figures they add up, for every role that may read health.
@Suite struct HealthSummaryTests {
    /// Two queues (one paused), a backlog with an old job, dead letters,
    /// completions and failures in the last hour, an open circuit and a silent worker: every
    /// field of the summary and every alert kind but the error rate is non-trivial.
    static func seed(_ conn: Connection) throws {
        try conn.executeScript("""
            SELECT enqueue_job('emails', 'send') FROM generate_series(1, 20);
            SELECT enqueue_job('sms', 'send') FROM generate_series(1, 3);
            UPDATE queues SET dlq_alert_threshold = 3, oldest_pending_alert_s = 60;
            UPDATE queues SET paused = true WHERE name <> 'emails';
            SELECT count(*) FROM claim_jobs('w1', ARRAY['emails'], 12);
            SELECT complete_jobs('w1', array_agg(id), array_agg(5))
              FROM (SELECT id FROM job_queue WHERE locked_by = 'w1' LIMIT 4) x;
            UPDATE job_queue SET run_at = now() - interval '2 hours', created_at = now() - interval '2 hours'
             WHERE id IN (SELECT id FROM job_queue WHERE status = 'pending' AND queue = 'emails' LIMIT 1);
            SELECT fail_jobs('w1', array_agg(id), array_agg('down'::text), array_agg('http_503'::text), NULL, array_agg(false))
              FROM (SELECT id FROM job_queue WHERE locked_by = 'w1' AND status = 'processing' LIMIT 5) x;
            INSERT INTO circuit_breakers (queue, state, opened_at) VALUES ('emails', 'open', now());
            INSERT INTO workers (id, host, pid, queues, status, last_seen)
            VALUES ('gone', 'box1', 42, ARRAY['emails'], 'running', now() - interval '5 minutes');
            """)
    }

    @Test func theSummaryIsTheSnapshotsFiguresExactly() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            // One transaction: now() is one instant for both reads.
            try conn.readOnlyTransaction { tx in
                let whole = try HealthStore(connection: tx).snapshot().snapshot
                let summary = try HealthStore(connection: tx).summary()
                #expect(summary == whole.summary)
                let emails = try #require(summary.queues.first { $0.name == "emails" })
                #expect(emails.counts.pending == 8 && emails.counts.processing == 3 && emails.counts.deadLetter == 5)
                #expect(emails.lastHour.completed == 4 && emails.oldestPendingSeconds >= 7199)
                #expect(summary.queues.map(\.name) == whole.queues.map(\.name), "the snapshot's order")
                #expect(summary.queues.first { $0.name == "sms" }?.paused == true)
                #expect(Set(summary.alerts.map(\.kind)).isSuperset(of: [.circuitOpen, .workerSilent, .dlqAboveThreshold, .oldestPendingTooOld]))
                // The combined read (`status --all-contexts --json`): the very text of the snapshot.
                let both = try HealthStore(connection: tx).snapshotJSONAndSummary()
                #expect(both.summary == summary)
                #expect(try HealthSnapshot.decode(json: both.json) == whole)
            }
        }
    }

    @Test func anEmptyDatabaseSummarisesToNoQueuesNotNull() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let summary = try HealthStore(connection: conn).summary()
            #expect(summary.queues.isEmpty && summary.alerts.isEmpty)
            #expect(try HealthStore(connection: conn).summaryJSON().contains("\"queues\": []"))
        }
    }

    /// The viewer (what an all view over read-only contexts logs in as) reads the summary and
    /// changes nothing by it.
    @Test func theViewerReadsTheSummary() throws {
        try TestDatabase.with { db in
            let owner = try db.connect()
            defer { owner.close() }
            try Self.seed(owner)
            let expected = try HealthStore(connection: owner).snapshot().snapshot.summary
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let viewer = try Connection.connect(config)
                defer { viewer.close() }
                try viewer.readOnlyTransaction { tx in
                    let summary = try HealthStore(connection: tx).summary()
                    #expect(summary.queues == expected.queues)
                    #expect(Set(summary.alerts.map(\.kind)) == Set(expected.alerts.map(\.kind)))
                    #expect(try HealthStore(connection: tx).snapshotJSONAndSummary().summary == summary)
                }
            }
        }
    }
}
