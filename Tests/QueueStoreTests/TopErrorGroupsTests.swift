import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The top-errors list of the health snapshot (`error_types`) groups failures by fingerprint:
/// one entry per queue, type and normalised pattern, with the count, the newest message as a
/// sample and the pattern stored once per group (issue 22; docs/HEALTH.md "Errors").
@Suite struct TopErrorGroupsTests {
    /// Fails the jobs enqueued with the given messages, in order, as one fail_jobs call.
    static func fail(_ conn: Connection, queue: String, type: String, messages: [String]) throws {
        try conn.transaction { tx in
            for (i, _) in messages.enumerated() {
                _ = try tx.query("SELECT enqueue_job(\(queue), 'job', jsonb_build_object('i', \(i)::int))")
            }
            _ = try tx.query("SELECT count(*) FROM claim_jobs('w', ARRAY[\(queue)::text], \(messages.count)::int)")
            let list = String(decoding: try JSONSerialization.data(withJSONObject: messages), as: UTF8.self)
            _ = try tx.query("""
                SELECT fail_jobs('w', array_agg(id ORDER BY (payload->>'i')::int),
                                 (SELECT array_agg(m ORDER BY o) FROM jsonb_array_elements_text(\(JSONText(list))::jsonb) WITH ORDINALITY t(m, o)),
                                 array_fill(\(type)::text, ARRAY[\(messages.count)::int]))
                FROM job_queue WHERE locked_by = 'w' AND status = 'processing'
                """)
        }
    }

    static func entries(_ conn: Connection, queue: String) throws -> [ErrorTypeSummary] {
        try HealthStore(connection: conn).snapshot().snapshot.errorTypes.filter { $0.queue == queue }
    }

    @Test func failuresDifferingOnlyInNumbersAreOneGroupAcrossFoldedAndUnfoldedRows() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.fail(conn, queue: "orders", type: "net", messages: [
                "timeout after 30012 ms for order 81723", "connection refused", "timeout after 29870 ms for order 5",
            ])
            try conn.executeScript("SELECT health_fold()")   // the first failures are in the hour rollup now
            try Self.fail(conn, queue: "orders", type: "net", messages: ["timeout after 7 ms for order 99"])

            func check(_ label: String) throws {
                let got = try Self.entries(conn, queue: "orders")
                #expect(got.count == 2, "\(label): one entry per pattern")
                let timeout = try #require(got.first, "\(label)")
                #expect(timeout.errorType == "net")
                #expect(timeout.count == 3, "\(label): both folded timeouts and the unfolded one")
                #expect(timeout.pattern == "timeout after <n> ms for order <n>")
                #expect(timeout.sampleMessage == "timeout after 7 ms for order 99", "\(label): the newest message")
                let fp: String = try conn.query("SELECT error_fingerprint('net', 'timeout after 1 ms for order 1') AS f").first!.decode("f")
                #expect(timeout.fingerprint == fp)
                let refused = try #require(got.last, "\(label)")
                #expect(refused.count == 1)
                #expect(refused.pattern == "connection refused")
                #expect(refused.sampleMessage == "connection refused")
                #expect(refused.fingerprint != timeout.fingerprint)
            }
            try check("deltas and rollup")
            try conn.executeScript("SELECT health_fold()")
            try check("all folded")
            try conn.executeScript("SELECT health_rebuild()")
            try check("rebuilt from job_queue")
        }
    }

    /// Apps reading `error_types` keep their fields; the entry gains fingerprint and pattern.
    @Test func theSnapshotEntryKeepsItsFieldsAndAddsFingerprintAndPattern() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.fail(conn, queue: "orders", type: "net", messages: ["timeout after 5 ms"])
            let keys: String = try conn.query("""
                SELECT string_agg(k, ',' ORDER BY k) AS keys
                FROM jsonb_object_keys(queue_health_snapshot()->'error_types'->0) k
                """).first!.decode("keys")
            #expect(keys == "count,error_type,fingerprint,last_seen,pattern,queue,sample_message")
        }
    }

    /// A failure recorded by plain SQL (no _fail_jobs, so no stored fingerprint and no
    /// error_groups row) still lands in its own group, with a pattern, and nothing else moves.
    @Test func aFailureRecordedByPlainSQLIsGroupedToo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.fail(conn, queue: "orders", type: "manual", messages: ["moved by hand 1"])
            try conn.executeScript("""
                SELECT enqueue_job('orders', 'job', '{}');
                UPDATE job_queue SET status = 'dead_letter', error_type = 'manual', error_message = 'moved by hand 42',
                                     last_error_at = now()
                WHERE status = 'pending' AND error_type IS NULL;
                """)
            let got = try Self.entries(conn, queue: "orders")
            #expect(got.count == 1)
            #expect(got.first?.count == 2)
            #expect(got.first?.pattern == "moved by hand <n>")
            #expect(got.first?.sampleMessage == "moved by hand 42")
        }
    }

    /// Hostile bytes in a message: the pattern turns control characters into a space; the
    /// sample keeps the message as it was (the screens sanitise what they print).
    @Test func controlCharactersNeverReachThePattern() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.fail(conn, queue: "orders", type: "evil", messages: ["boom\u{1b}]0;pwn\u{07}\u{1b}[2J 12"])
            let e = try #require(try Self.entries(conn, queue: "orders").first)
            #expect(e.pattern == "boom ]<n>;pwn [<n>J <n>")
            #expect(e.pattern?.unicodeScalars.contains { $0.value < 0x20 } == false)
        }
    }
    /// A rollup row the 0025 upgrade could not fingerprint (fingerprint ''): it stays listed,
    /// with no fingerprint and a pattern normalised from its sample, until it leaves the 24 h.
    @Test func aRowFromBefore0025WithoutAFingerprintIsStillListed() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                INSERT INTO queue_errors_hour (queue, hour, error_type, fingerprint, count, last_seen, sample_message)
                VALUES ('old', date_trunc('hour', now(), 'UTC'), 'net', '', 5, now(), 'timeout after 30 ms');
                INSERT INTO queue_error_latest (queue, error_type, fingerprint, last_seen, sample_message)
                VALUES ('old', 'net', '', now(), 'timeout after 30 ms');
                """)
            let e = try #require(try Self.entries(conn, queue: "old").first)
            #expect(e.count == 5)
            #expect(e.fingerprint == nil)
            #expect(e.pattern == "timeout after <n> ms")
            #expect(e.sampleMessage == "timeout after 30 ms")
        }
    }
}
