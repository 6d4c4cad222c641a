import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Issue 22 items 1, 2 and 4 against PostgreSQL: error fingerprints, the lifecycle of error
/// groups, and undo for requeues (docs/TRIAGE.md).
@Suite struct TriageTests {
    /// Fails one new job of `queue` for good with this message and type, as a worker would.
    @discardableResult
    func deadJob(_ conn: Connection, queue: String = "orders", type: String = "timeout", message: String) throws -> UUID {
        let id = try JobStore(connection: conn).enqueue(NewJob(queue: queue, type: "ship")).id
        try JobStore(connection: conn).failJob(id: id, message: message, errorType: type, retryable: false)
        return id
    }

    func pattern(_ conn: Connection, _ message: String) throws -> String {
        try conn.run("SELECT \(qt: "error_pattern")(\(message))").scalar()
    }

    // MARK: - Fingerprints

    @Test func messagesNormaliseToTheExpectedPatterns() throws {
        let huge = String(repeating: "x", count: 100_000) + " 12345"
        let table: [(String, String)] = [
            ("timeout after 30012 ms for order 81723", "timeout after <n> ms for order <n>"),
            ("timeout after 5 ms for order 1", "timeout after <n> ms for order <n>"),
            ("job 3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b failed", "job <uuid> failed"),
            ("object 0x7ffee4c1 freed twice", "object <hex> freed twice"),
            ("commit 9fceb02d0ae598e95dc970b74767f19372d61af8 not found", "commit <hex> not found"),
            ("mailbox alice.smith+tag@example.co.uk is full", "mailbox <email> is full"),
            ("GET https://api.example.com/v1/users?id=42&token=abc failed", "GET https://api.example.com/v<n>/users?<query> failed"),
            ("user 'bob' not found", "user <str> not found"),
            ("key \"order:81723\" locked", "key <str> locked"),
            ("can't connect to `db-7`", "can't connect to <str>"),
            ("disk at 97.5% on 10.0.0.12:5432", "disk at <n>% on <n>"),
            ("line one\nline two\r\n\tline three", "line one line two line three"),
            ("\u{1B}[31mred\u{1B}[0m alert \u{07}", "[<n>mred [<n>m alert"),
            ("Zeitüberschreitung nach 300 ms für Bestellung 12", "Zeitüberschreitung nach <n> ms für Bestellung <n>"),
            ("注文 81723 のタイムアウト", "注文 <n> のタイムアウト"),
            ("", ""),
            ("deadbeef is a word here", "deadbeef is a word here"),
        ]
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            for (message, expected) in table {
                #expect(try pattern(conn, message) == expected, "\(message.debugDescription)")
            }
            // A huge message: only the first 500 characters are read; the number past them is not.
            let long = try pattern(conn, huge)
            #expect(long.count == 500 && !long.contains("<n>"))
            // Same type and pattern: one fingerprint; another type: another.
            let a: String = try conn.run("SELECT \(qt: "error_fingerprint")('timeout', 'after 1 ms')").scalar()
            let b: String = try conn.run("SELECT \(qt: "error_fingerprint")('timeout', 'after 99 ms')").scalar()
            let c: String = try conn.run("SELECT \(qt: "error_fingerprint")('other', 'after 1 ms')").scalar()
            #expect(a == b && a != c && a.count == 12)
        }
    }

    @Test func failuresAreGroupedByFingerprintAndRequeuedByGroup() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dlq = DLQStore(connection: conn)
            let timeouts = try (0..<4).map { try deadJob(conn, message: "timeout after \(30_000 + $0) ms for order \(81_720 + $0)") }
            let refused = try deadJob(conn, message: "connection refused by 'warehouse-3'")
            let groups = try dlq.groups(queue: "orders")
            #expect(groups.count == 2)
            let big = try #require(groups.first)
            #expect(big.count == 4 && big.pattern == "timeout after <n> ms for order <n>" && big.errorType == "timeout")
            #expect(big.sampleMessage?.hasPrefix("timeout after 300") == true)
            #expect(big.lifecycle.state == .open && big.lifecycle.isNew)
            // Stored once, on the job and on the attempt.
            let stored: Int = try conn.query("""
                SELECT count(*)::int FROM job_queue j JOIN job_attempts a ON a.job_id = j.id
                WHERE j.error_fingerprint = \(big.fingerprint) AND a.error_fingerprint = \(big.fingerprint)
                """).scalar()
            #expect(stored == 4)

            let asOf = try dlq.now()
            #expect(try dlq.count(inGroup: "orders", fingerprint: big.fingerprint, asOf: asOf) == 4)
            #expect(try dlq.sample(inGroup: "orders", fingerprint: big.fingerprint, asOf: asOf).count == 4)
            let result = try dlq.requeue(inGroup: "orders", fingerprint: big.fingerprint, resetAttempts: true, asOf: asOf)
            #expect(result.affected == 4)
            #expect(try jobStatuses(conn, timeouts) == ["pending"])
            #expect(try jobStatuses(conn, [refused]) == ["dead_letter"])
            let audit = try #require(try AuditStore(connection: conn).list(action: "dlq.requeue").first)
            #expect(audit.filter.raw.contains(big.fingerprint) && audit.affected == 4)

            // Delete by group touches only that group.
            let other = try #require(try dlq.groups(queue: "orders").first)
            #expect(try dlq.delete(inGroup: "orders", fingerprint: other.fingerprint, asOf: try dlq.now()) == 1)
            #expect(try jobStatuses(conn, [refused]).isEmpty)
        }
    }

    @Test func aBatchCannotFileUnderAnotherGroupsAuditRow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try deadJob(conn, message: "a 1")
            let fp = try #require(try DLQStore(connection: conn).groups().first).fingerprint
            let audit = try AuditStore(connection: conn).begin(action: "dlq.requeue", filter: JSONText(
                #"{"queue":"orders","error_type":null,"fingerprint":"\#(fp)","as_of":"2999-01-01 00:00:00+00"}"#))
            #expect(throws: (any Error).self) {
                try conn.run("SELECT \(qt: "requeue_dlq_batch")('orders', NULL, true, '2999-01-01'::timestamptz, 10, \(audit), 'aaaaaaaaaaaa')")
            }
            #expect(try conn.query("SELECT count(*)::int FROM job_queue WHERE status = 'dead_letter'").scalar(Int.self) == 1)
        }
    }

    @Test func rowsFromBeforeFingerprintsAreBackfilledInBatchesAndGroupedMeanwhile() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            for n in 0..<7 { try deadJob(conn, message: "timeout after \(n) ms") }
            // As if failed before 0021: no fingerprint, no group row, backfill not done.
            try conn.query("UPDATE job_queue SET error_fingerprint = NULL")
            try conn.query("UPDATE job_attempts SET error_fingerprint = NULL")
            try conn.query("DELETE FROM error_groups")
            try conn.query("UPDATE fingerprint_backfill SET job_after = NULL, attempt_after = NULL, done_at = NULL")
            // Grouped on the fly meanwhile.
            let before = try DLQStore(connection: conn).groups()
            #expect(before.count == 1 && before[0].count == 7 && before[0].pattern == "timeout after <n> ms")
            let batches = try TriageStore(connection: conn).backfillFingerprints(batchSize: 3)
            #expect(batches == 3 + 3)  // 7 jobs in 3 batches, 7 attempts in 3 batches
            let missing: Int = try conn.query("""
                SELECT (SELECT count(*) FROM job_queue WHERE error_fingerprint IS NULL)
                     + (SELECT count(*) FROM job_attempts WHERE error_fingerprint IS NULL)
                """).scalar(Int.self)
            #expect(missing == 0)
            #expect(try conn.query("SELECT count(*)::int FROM error_groups").scalar(Int.self) == 1)
            // Done: a later migrate does nothing.
            #expect(try TriageStore(connection: conn).backfillFingerprints() == 0)
        }
    }

    // MARK: - Lifecycle

    @Test func lifecycleStatesAreAuditedAndAcknowledgementIsPerRole() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let dlq = DLQStore(connection: conn)
            let triage = TriageStore(connection: conn)
            try deadJob(conn, message: "timeout after 1 ms")
            let g = try #require(try dlq.groups().first)
            let ref = ErrorGroupRef(queue: g.queue, fingerprint: g.fingerprint)
            try triage.acknowledge(ref)
            var now = try #require(try dlq.groups().first).lifecycle
            #expect(!now.isNew && now.ackedAt != nil && now.state == .open)
            // Another role has not seen it.
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let other = try Connection.connect(config)
                defer { other.close() }
                #expect(try DLQStore(connection: other).groups().first?.lifecycle.isNew == true)
            }
            // A new failure makes it new again.
            try deadJob(conn, message: "timeout after 2 ms")
            #expect(try dlq.groups().first?.lifecycle.isNew == true)

            // Snooze until the count passes 2: snoozed at 2, open again at 3.
            try triage.snooze(ref, until: nil, above: 2)
            #expect(try dlq.groups().first?.lifecycle.state == .snoozed)
            try deadJob(conn, message: "timeout after 3 ms")
            #expect(try dlq.groups().first?.lifecycle.state == .open)
            // A time in the past is refused and changes nothing.
            #expect(throws: (any Error).self) { try triage.snooze(ref, until: Date(timeIntervalSinceNow: -60), above: nil) }
            #expect(throws: (any Error).self) { try triage.snooze(ref, until: nil, above: nil) }
            try triage.snooze(ref, until: Date(timeIntervalSinceNow: 3_600), above: nil)
            now = try #require(try dlq.groups().first).lifecycle
            #expect(now.state == .snoozed && now.snoozedUntil != nil)

            try triage.resolve(ref)
            #expect(try dlq.groups().first?.lifecycle.state == .resolved)
            try triage.reopen(ref)
            #expect(try dlq.groups().first?.lifecycle.state == .open)
            // Unknown group: refused with the reason.
            #expect(throws: (any Error).self) { try triage.resolve(ErrorGroupRef(queue: "orders", fingerprint: "000000000000")) }
            #expect(throws: (any Error).self) { try ErrorGroupRef(parsing: "orders") }
            #expect(throws: (any Error).self) { try ErrorGroupRef(parsing: "orders/xyz") }

            let actions = try AuditStore(connection: conn).list().map(\.action)
            #expect(Set(actions).isSuperset(of: ["error_group.ack", "error_group.snooze", "error_group.resolve", "error_group.reopen"]))
        }
    }

    @Test func aResolvedGroupThatFailsAgainRegressesOnceAndQueuesOneNotificationPerHook() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try AlertHookStore(connection: conn).add(name: "ops", url: "http://127.0.0.1:9/hook")
            try deadJob(conn, message: "timeout after 1 ms")
            let g = try #require(try DLQStore(connection: conn).groups().first)
            try TriageStore(connection: conn).resolve(ErrorGroupRef(queue: g.queue, fingerprint: g.fingerprint))
            // Fails again, several times, in separate statements and in one batch.
            try deadJob(conn, message: "timeout after 2 ms")
            try deadJob(conn, message: "timeout after 3 ms")
            let group = try #require(try DLQStore(connection: conn).groups().first)
            #expect(group.lifecycle.state == .regressed && group.lifecycle.regressedAt != nil)
            let notes: Int = try conn.query("""
                SELECT count(*)::int FROM alert_notifications WHERE payload ->> 'kind' = 'error_group_regressed'
                """).scalar()
            #expect(notes == 1)
        }
    }

    @Test func rolesCanDoOnlyWhatTheirNameSays() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try deadJob(conn, message: "timeout after 1 ms")
            let g = try #require(try DLQStore(connection: conn).groups().first)
            let ref = ErrorGroupRef(queue: g.queue, fingerprint: g.fingerprint)
            let requeue = try DLQStore(connection: conn).requeueAll(DLQFilter(queue: "orders"), asOf: try DLQStore(connection: conn).now())
            for group in ["queuetop_viewer", "queuetop_worker", "queuetop_producer"] {
                try db.withLoginRole(in: group) { config, _ in
                    let other = try Connection.connect(config)
                    defer { other.close() }
                    let triage = TriageStore(connection: other)
                    #expect(throws: (any Error).self) { try triage.acknowledge(ref) }
                    #expect(throws: (any Error).self) { try triage.resolve(ref) }
                    #expect(throws: (any Error).self) { try triage.undoRequeue(auditID: requeue.auditID) }
                    #expect(throws: (any Error).self) { try TriageStore(connection: other).backfillFingerprints() }
                }
            }
            // The viewer reads the groups; the operator acts.
            try db.withLoginRole(in: "queuetop_viewer") { config, _ in
                let other = try Connection.connect(config)
                defer { other.close() }
                _ = try DLQStore(connection: other).groups()
            }
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let other = try Connection.connect(config)
                defer { other.close() }
                try TriageStore(connection: other).acknowledge(ref)
                #expect(try TriageStore(connection: other).undoRequeue(auditID: requeue.auditID) == 1)
            }
        }
    }

    // MARK: - Undo

    @Test func undoReturnsExactlyTheJobsThatHaveNotStartedAsTheyWere() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let ids = try (0..<5).map { try deadJob(conn, message: "timeout after \($0) ms") }
            func fields(_ id: UUID) throws -> String {
                try conn.query("""
                    SELECT concat_ws('|', status, attempt_count, run_at, next_retry_at, last_error_at, error_type,
                                     error_message, error_fingerprint, started_at) FROM job_queue WHERE id = \(id)
                    """).scalar()
            }
            let before = try ids.map(fields)
            let dlq = DLQStore(connection: conn)
            let fp = try #require(try dlq.groups().first).fingerprint
            let result = try dlq.requeue(inGroup: "orders", fingerprint: fp, resetAttempts: true, asOf: try dlq.now())
            #expect(result.affected == 5)
            // One job starts and completes, one starts and is still running, one is cancelled.
            let claimedJobs = try JobStore(connection: conn).claim(worker: "w1", queues: ["orders"], max: 2)
            let claimed = claimedJobs.map { UUID(uuidString: $0.id.text)! }
            #expect(claimed.count == 2)
            _ = try JobStore(connection: conn).complete(worker: "w1", ids: [claimedJobs[0].id])
            let untouched = ids.filter { !claimed.contains($0) }
            try conn.query("SELECT cancel_job(\(untouched[0]))")
            #expect(try TriageStore(connection: conn).undoableCount(auditID: result.auditID) == 2)

            let n = try TriageStore(connection: conn).undoRequeue(auditID: result.auditID)
            #expect(n == 2)
            for id in untouched.dropFirst() {
                #expect(try fields(id) == before[ids.firstIndex(of: id)!])
            }
            #expect(try jobStatuses(conn, [claimed[0]]) == ["completed"])
            #expect(try jobStatuses(conn, [claimed[1]]) == ["processing"])
            #expect(try jobStatuses(conn, [untouched[0]]) == ["cancelled"])
            let undo = try #require(try AuditStore(connection: conn).list(action: "dlq.undo").first)
            #expect(undo.affected == 2 && undo.filter.raw.contains("\(result.auditID)"))
            // Once only; and only a requeue.
            #expect(throws: (any Error).self) { try TriageStore(connection: conn).undoRequeue(auditID: result.auditID) }
            #expect(throws: (any Error).self) { try TriageStore(connection: conn).undoRequeue(auditID: undo.id) }
            #expect(throws: (any Error).self) { try TriageStore(connection: conn).undoRequeue(auditID: 999_999) }
        }
    }

    /// Attacker's view: operators may write any audit row (record_audit). One writes a
    /// "dlq.undo" row naming another operator's requeue; the real undo must still work.
    @Test func aForgedUndoAuditRowDoesNotBlockTheRealUndo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let ids = try (0..<2).map { try deadJob(conn, message: "timeout after \($0) ms") }
            let dlq = DLQStore(connection: conn)
            let requeue = try dlq.requeueAll(DLQFilter(queue: "orders"), asOf: try dlq.now())
            #expect(requeue.affected == 2)
            try db.withLoginRole(in: "queuetop_operator") { config, _ in
                let mallory = try Connection.connect(config)
                defer { mallory.close() }
                try mallory.query("SELECT \(qt: "record_audit")('dlq.undo', jsonb_build_object('audit_id', \(requeue.auditID)::bigint), 0)")
            }
            #expect(try TriageStore(connection: conn).undoRequeue(auditID: requeue.auditID) == 2)
            #expect(try jobStatuses(conn, ids) == ["dead_letter"])
            #expect(throws: (any Error).self, "undone once only") { try TriageStore(connection: conn).undoRequeue(auditID: requeue.auditID) }
        }
    }

    @Test func singleAndMarkedRequeuesCanBeUndoneToo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let a = try deadJob(conn, message: "x 1"), b = try deadJob(conn, message: "x 2"), c = try deadJob(conn, message: "x 3")
            let dlq = DLQStore(connection: conn)
            try dlq.requeue(id: a)
            #expect(try dlq.requeue(ids: [b, c]) == 2)
            let audits = try AuditStore(connection: conn).list(action: "dlq.requeue")
            #expect(audits.map(\.affected) == [2, 1])
            #expect(try TriageStore(connection: conn).undoRequeue(auditID: audits[0].id) == 2)
            #expect(try TriageStore(connection: conn).undoRequeue(auditID: audits[1].id) == 1)
            #expect(try jobStatuses(conn, [a, b, c]) == ["dead_letter"])
        }
    }
}
