import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The health views agree with exact SQL over the raw rows: counts and throughput equal it,
/// percentiles fall within the stated relative error of percentile_cont.
@Suite struct HealthTests {
    /// A known dataset, made through the real functions and through plain SQL (as the seed does):
    /// completions with a skewed latency spread over the last 24 h, retryable and final failures,
    /// the seed's `SET attempt_count = 5` before a failure, plain-SQL dead-lettering and
    /// cancelling, deletes, and a second queue.
    static func makeDataset(_ conn: Connection) throws {
        try conn.executeScript("""
            SELECT enqueue_job('emails', 'send', jsonb_build_object('i', i)) FROM generate_series(1, 1200) i;
            SELECT enqueue_job('sync', 'store', '{}') FROM generate_series(1, 300) i;
            SELECT count(*) FROM claim_jobs('w1', ARRAY['emails'], 700);
            SELECT count(*) FROM claim_jobs('w2', ARRAY['sync'], 200);
            -- Completions with a heavy-tailed latency (1 ms .. ~60 s).
            SELECT complete_jobs('w1', array_agg(id ORDER BY id),
                                 array_agg((exp(random() * 11))::int ORDER BY id))
              FROM (SELECT id FROM job_queue WHERE locked_by = 'w1' ORDER BY id LIMIT 500) x;
            SELECT complete_jobs('w2', array_agg(id), array_agg((random() * 50)::int))
              FROM (SELECT id FROM job_queue WHERE locked_by = 'w2' LIMIT 150) x;
            SELECT fail_jobs('w1', array_agg(id), array_agg('smtp 421 try later'::text), array_agg('smtp_error'::text))
              FROM (SELECT id FROM job_queue WHERE locked_by = 'w1' LIMIT 120) x;
            SELECT fail_jobs('w1', array_agg(id), array_agg('bad address'::text), array_agg('invalid_input'::text),
                             NULL, array_agg(false))
              FROM (SELECT id FROM job_queue WHERE locked_by = 'w1' LIMIT 30) x;
            -- Seed 000, test 4: exhaust attempts by hand, then fail -> DLQ.
            UPDATE job_queue SET attempt_count = 5
             WHERE id IN (SELECT id FROM job_queue WHERE locked_by = 'w1' LIMIT 25);
            SELECT fail_job(id, 'Max retries exceeded test', 'test_error', NULL, true)
              FROM job_queue WHERE locked_by = 'w1' AND attempt_count = 5;
            -- Plain SQL state changes and back-dated completions, one per 3 minutes over 24 h.
            UPDATE job_queue SET status = 'dead_letter', error_type = 'manual', error_message = 'moved by hand',
                                 last_error_at = now(), payload = '{"plain": true}', locked_by = NULL
             WHERE id IN (SELECT id FROM job_queue WHERE locked_by = 'w2' LIMIT 20);
            UPDATE job_queue SET status = 'cancelled' WHERE id IN (SELECT id FROM job_queue WHERE queue = 'sync' AND status = 'pending' LIMIT 40);
            DELETE FROM job_queue WHERE id IN (SELECT id FROM job_queue WHERE queue = 'emails' AND status = 'pending' LIMIT 60);
            INSERT INTO job_queue (queue, job_type, status, created_at, started_at, completed_at, processing_time_ms)
            SELECT 'emails', 'send', 'completed', t - interval '1 s', t - interval '1 s', t, (exp(random() * 8))::int
              FROM generate_series(now() - interval '23 hours 59 minutes', now(), interval '3 minutes') t;
            """)
    }

    /// Reads the snapshot and runs `body` in the same transaction, so now() is one instant for
    /// both and no minute or hour can roll over between them.
    static func withSnapshot(_ conn: Connection, _ body: (HealthSnapshot, Connection) throws -> Void) throws {
        try conn.transaction { tx in
            let reading = try HealthStore(connection: tx).snapshot()
            try body(reading.snapshot, tx)
        }
    }

    static func rawCounts(_ conn: Connection) throws -> [String: [String: Int64]] {
        var out: [String: [String: Int64]] = [:]
        for r in try conn.query("SELECT queue, status, count(*) AS n FROM job_queue GROUP BY 1, 2") {
            out[try r.decode("queue"), default: [:]][try r.decode("status")] = try r.decode("n")
        }
        return out
    }

    static func dict(_ c: StatusCounts) -> [String: Int64] {
        ["pending": c.pending, "processing": c.processing, "completed": c.completed, "failed": c.failed,
         "dead_letter": c.deadLetter, "cancelled": c.cancelled].filter { $0.value != 0 }
    }

    /// Every field the dashboard shows must survive decoding: `error_rate_5m` did not (Foundation's
    /// snake-case conversion made it `errorRate5M`), and queue detail always said "nothing finished".
    @Test func theFiveMinuteErrorRateReachesTheDecodedSnapshot() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let ids = try jobs.enqueue((0..<4).map { _ in NewJob(queue: "rated", type: "t") }).map { JobID($0.id) }
            _ = try jobs.claim(worker: "w", queues: ["rated"], max: 4)
            try jobs.complete(worker: "w", ids: Array(ids.prefix(3)))
            try jobs.fail(worker: "w", [JobFailure(id: ids[3], message: "boom", errorType: "smtp_error")])
            let queue = try HealthStore(connection: conn).snapshot().snapshot.queues.first { $0.name == "rated" }
            #expect(queue?.errorRate5m == 0.25)
            #expect(queue?.lastHour.completed == 3)
        }
    }

    @Test func countsThroughputAndErrorsEqualExactSQLOverRawRows() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeDataset(conn)
            try Self.withSnapshot(conn) { s, tx in
                #expect(s.queues.map(\.name) == ["emails", "sync"])
                let raw = try Self.rawCounts(tx)
                for q in s.queues { #expect(Self.dict(q.counts) == raw[q.name] ?? [:], "counts of \(q.name)") }

                // Failed attempts are job_attempts rows, plus the plain-SQL dead-letterings.
                let events = """
                    SELECT queue, completed_at AS at, 1 AS c, 0 AS f, 0 AS d FROM job_queue WHERE status = 'completed'
                    UNION ALL SELECT j.queue, a.failed_at, 0, 1, (a.attempt = (SELECT max(attempt) FROM job_attempts b WHERE b.job_id = a.job_id)
                                                                AND j.status = 'dead_letter')::int
                      FROM job_attempts a JOIN job_queue j ON j.id = a.job_id
                    UNION ALL SELECT queue, last_error_at, 0, 1, 1 FROM job_queue WHERE payload = '{"plain": true}'
                    """
                for q in s.queues {
                    let hours = try tx.query("""
                        SELECT to_char(date_trunc('hour', at, 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS h,
                               sum(c)::bigint AS c, sum(f)::bigint AS f, sum(d)::bigint AS d
                        FROM (\(unsafeRaw: events)) e
                        WHERE queue = \(q.name) AND at >= date_trunc('hour', now(), 'UTC') - interval '23 hours'
                        GROUP BY 1
                        """)
                    var expected: [String: [Int64]] = [:]
                    for r in hours { expected[try r.decode("h")] = [try r.decode("c"), try r.decode("f"), try r.decode("d")] }
                    #expect(q.throughputPerHour.count == 24)
                    let got = Dictionary(uniqueKeysWithValues: q.throughputPerHour
                        .filter { $0.completed + $0.failed + $0.deadLettered > 0 }
                        .map { (StatusReportTime.rfc3339($0.hour), [$0.completed, $0.failed, $0.deadLettered]) })
                    #expect(got == expected, "hourly throughput of \(q.name)")

                    let minutes = try tx.query("""
                        SELECT to_char(date_trunc('minute', at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS m,
                               sum(c)::bigint AS c, sum(f)::bigint AS f
                        FROM (\(unsafeRaw: events)) e
                        WHERE queue = \(q.name) AND at >= date_trunc('minute', now()) - interval '59 minutes'
                        GROUP BY 1
                        """)
                    var expectedMin: [String: [Int64]] = [:]
                    for r in minutes { expectedMin[try r.decode("m")] = [try r.decode("c"), try r.decode("f")] }
                    #expect(q.throughputPerMinute.count == 60)
                    let gotMin = Dictionary(uniqueKeysWithValues: q.throughputPerMinute
                        .filter { $0.completed + $0.failed > 0 }
                        .map { (StatusReportTime.rfc3339($0.minute), [$0.completed, $0.failed]) })
                    #expect(gotMin == expectedMin, "per-minute throughput of \(q.name)")
                }

                let errors = try tx.query("""
                    SELECT j.queue, a.error_type, count(*) AS n FROM job_attempts a JOIN job_queue j ON j.id = a.job_id GROUP BY 1, 2
                    UNION ALL SELECT queue, error_type, count(*) FROM job_queue WHERE payload = '{"plain": true}' GROUP BY 1, 2
                    """)
                var expectedErrors: [String: Int64] = [:]
                for r in errors { expectedErrors["\(try r.decode("queue", as: String.self))/\(try r.decode("error_type", as: String.self))"] = try r.decode("n") }
                let gotErrors = Dictionary(uniqueKeysWithValues: s.errorTypes.map { ("\($0.queue)/\($0.errorType)", $0.count) })
                #expect(gotErrors == expectedErrors)
                #expect(s.errorTypes.first { $0.errorType == "smtp_error" }?.sampleMessage == "smtp 421 try later")
            }
        }
    }

    @Test func percentilesAreWithinTheStatedBoundOfPercentileCont() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeDataset(conn)
            try Self.withSnapshot(conn) { s, tx in
                for q in s.queues {
                    let r = try tx.query("""
                        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_time_ms) AS p50,
                               percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_ms) AS p95,
                               percentile_cont(0.99) WITHIN GROUP (ORDER BY processing_time_ms) AS p99,
                               avg(processing_time_ms)::float8 AS avg, max(processing_time_ms)::bigint AS max, count(*) AS n
                        FROM job_queue
                        WHERE queue = \(q.name) AND status = 'completed' AND processing_time_ms IS NOT NULL
                          AND completed_at >= date_trunc('minute', now()) - interval '59 minutes'
                        """)[0]
                    let l = q.latencyMs
                    #expect(l.samples == (try r.decode("n", as: Int64.self)))
                    #expect(l.max == (try r.decode("max", as: Int64?.self)))
                    #expect(abs(l.relativeError - (1.1.squareRoot() - 1)) < 1e-5)
                    #expect(Set(l.estimated) == ["p50", "p95", "p99"])
                    // The snapshot rounds to 0.1 ms; allow that on top of the bound.
                    for (name, est) in [("p50", l.p50), ("p95", l.p95), ("p99", l.p99)] {
                        let exact = try r.decode(name, as: Double.self)
                        let e = try #require(est)
                        #expect(abs(e - exact) <= exact * l.relativeError + 0.05 + 1e-9, "\(q.name) \(name): \(e) vs \(exact)")
                    }
                    #expect(abs((l.avg ?? -1) - (try r.decode("avg", as: Double.self))) <= 0.05 + 1e-9)
                }
            }
        }
    }

    /// The rolling last-hour histogram, after sliding by two hours, equals the minute rows of
    /// the hour it now covers (as if the last fold had run two hours ago).
    @Test func rollingHourHistogramSlidesExactly() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeDataset(conn)
            try HealthStore(connection: conn).fold()
            try conn.executeScript("""
                UPDATE health_settings SET window_start = window_start - interval '2 hours';
                DELETE FROM queue_latency_recent;
                INSERT INTO queue_latency_recent (queue, bucket, count)
                SELECT queue, bucket, sum(count) FROM queue_latency_minute
                WHERE minute >= (SELECT window_start FROM health_settings) GROUP BY 1, 2;
                SELECT enqueue_job('emails', 'late') FROM generate_series(1, 5);
                SELECT count(*) FROM claim_jobs('w9', ARRAY['emails'], 5);
                SELECT complete_jobs('w9', array_agg(id), array_agg(123456)) FROM job_queue WHERE locked_by = 'w9';
                """)
            #expect(try HealthStore(connection: conn).fold())
            let mismatches: Int = try conn.query("""
                SELECT count(*) FROM (
                    SELECT queue, bucket, count FROM queue_latency_recent
                    EXCEPT ALL
                    SELECT queue, bucket, sum(count) FROM queue_latency_minute
                    WHERE minute >= (SELECT window_start FROM health_settings) GROUP BY 1, 2) x
                """).scalar()
            let rows: Int = try conn.query("SELECT count(*) FROM queue_latency_recent").scalar()
            let expected: Int = try conn.query("""
                SELECT count(DISTINCT (queue, bucket)) FROM queue_latency_minute
                WHERE minute >= (SELECT window_start FROM health_settings)
                """).scalar()
            #expect(mismatches == 0)
            #expect(rows == expected)

            // The fallback over minute rows (taken when the window is not current) agrees exactly.
            let latency = "SELECT p50, p95, p99 FROM health_latency('emails', (SELECT window_start FROM health_settings))"
            let fast = try conn.query(Query(unsafeSQL: latency))[0]
            try conn.execute("UPDATE health_settings SET window_start = window_start - interval '1 minute'")
            let slow = try conn.query(Query(unsafeSQL: latency.replacingOccurrences(of: "(SELECT window_start", with: "(SELECT window_start + interval '1 minute'")))[0]
            for p in ["p50", "p95", "p99"] {
                #expect(try fast.decode(p, as: Double.self) == slow.decode(p, as: Double.self), "\(p)")
            }
        }
    }

    @Test func bucketBoundHoldsForEveryValueUpToOneMillion() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let worst: Double = try conn.query("""
                SELECT max(abs(health_bucket_value(health_bucket(v)) / v - 1))
                FROM generate_series(1, 1000000) v
                """).scalar()
            #expect(worst <= 1.1.squareRoot() - 1 + 1e-12)
            let zero: Double = try conn.query("SELECT health_bucket_value(health_bucket(0))").scalar()
            #expect(zero == 0)
        }
    }

    @Test func countersStayExactWithConcurrentWritersAndFolders() throws {
        try TestDatabase.with { db in
            let setup = try db.connect()
            defer { setup.close() }
            try setup.executeScript("SELECT enqueue_job(q, 'x') FROM unnest(ARRAY['a', 'b', 'c']) q, generate_series(1, 10) i")
            let failures = ErrorBox()
            // Six writers enqueue, claim, complete and fail in batches on three shared queues
            // while two sessions fold and read: every interleaving of statements and folds.
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                do {
                    let conn = try db.connect()
                    defer { conn.close() }
                    let store = HealthStore(connection: conn)
                    for round in 0..<25 {
                        if worker >= 6 {
                            _ = try store.snapshot()
                            continue
                        }
                        let id = "w\(worker)"
                        let queues = [["a", "b"], ["b", "c"], ["c", "a"]][worker % 3]
                        try conn.execute("SELECT enqueue_job(\(queues[round % 2]), 'x') FROM generate_series(1, 20)")
                        try conn.execute("SELECT count(*) FROM claim_jobs(\(id), \(queues), 15)")
                        try conn.execute("""
                            SELECT complete_jobs(\(id), array_agg(id), array_agg(7))
                            FROM (SELECT id FROM job_queue WHERE locked_by = \(id) LIMIT 10) x
                            """)
                        try conn.execute("""
                            SELECT fail_jobs(\(id), array_agg(id), array_agg('boom'::text), array_agg('boom'::text), NULL, array_agg(\(round % 2 == 0)::bool))
                            FROM (SELECT id FROM job_queue WHERE locked_by = \(id)) x
                            """)
                    }
                } catch {
                    failures.append("\(error)")
                }
            }
            #expect(failures.all.isEmpty, "\(failures.all)")
            let raw = try Self.rawCounts(setup)
            let snapshot = try HealthStore(connection: setup).snapshot().snapshot
            for q in snapshot.queues { #expect(Self.dict(q.counts) == raw[q.name] ?? [:], "counts of \(q.name)") }
            let completed: Int64 = try setup.query("SELECT count(*) FROM job_queue WHERE status = 'completed'").scalar()
            #expect(snapshot.queues.reduce(0) { $0 + $1.lastHour.completed } == completed)
        }
    }

    @Test func alertsUseTheQueueThresholds() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job('emails', 'send') FROM generate_series(1, 20);
                UPDATE queues SET dlq_alert_threshold = 3, oldest_pending_alert_s = 60, error_rate_alert = 0.2;
                SELECT count(*) FROM claim_jobs('w1', ARRAY['emails'], 10);
                UPDATE job_queue SET run_at = now() - interval '2 hours', created_at = now() - interval '2 hours'
                 WHERE id IN (SELECT id FROM job_queue WHERE status = 'pending' LIMIT 1);
                SELECT fail_jobs('w1', array_agg(id), array_agg('down'::text), array_agg('http_503'::text), NULL, array_agg(false))
                  FROM job_queue WHERE locked_by = 'w1';
                INSERT INTO circuit_breakers (queue, state, opened_at) VALUES ('emails', 'open', now());
                INSERT INTO workers (id, host, pid, queues, status, last_seen)
                VALUES ('gone', 'box1', 42, ARRAY['emails'], 'running', now() - interval '5 minutes');
                """)
            let s = try HealthStore(connection: conn).snapshot().snapshot
            let kinds = Set(s.alerts.map(\.kind))
            #expect(kinds == [.dlqAboveThreshold, .oldestPendingTooOld, .errorRateHigh, .circuitOpen, .workerSilent])
            #expect(Set(s.queue(named: "emails")?.alerts.map(\.kind) ?? []) == kinds.subtracting([.workerSilent]))
            #expect(s.queue(named: "emails")!.oldestPendingSeconds >= 7200)
            #expect(s.workers.first?.status == "lost")
            #expect(s.circuitBreakers.first?.state == "open")
        }
    }

    @Test func snapshotJSONHasTheDocumentedShapeAndWorksReadOnly() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeDataset(conn)
            let json = try HealthStore(connection: conn).snapshotJSON()
            let top = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            for key in ["generated_at", "queues", "error_types", "workers", "worker_counts", "lead_migrations", "alerts", "circuit_breakers"] {
                #expect(top[key] != nil, "missing \(key)")
            }
            let queue = try #require((top["queues"] as? [[String: Any]])?.first)
            for key in ["name", "paused", "counts", "oldest_pending_seconds", "throughput_per_hour", "throughput_per_minute", "latency_ms", "alerts"] {
                #expect(queue[key] != nil, "missing queues[].\(key)")
            }
            let latency = try #require(queue["latency_ms"] as? [String: Any])
            for key in ["p50", "p95", "p99", "avg", "max", "samples", "relative_error"] { #expect(latency[key] != nil, "missing latency_ms.\(key)") }

            // A read-only transaction (a viewer on a hot standby) cannot fold, yet reads exact counts.
            try conn.executeScript("SELECT enqueue_job('emails', 'late') FROM generate_series(1, 7)")
            try conn.transaction { tx in
                try tx.execute("SET TRANSACTION READ ONLY")
                let s = try HealthStore(connection: tx).snapshot().snapshot
                let raw = try Self.rawCounts(tx)
                #expect(Self.dict(s.queue(named: "emails")!.counts) == raw["emails"])
            }
            // Under REPEATABLE READ it does not fold (no serialization errors) and stays exact.
            try conn.executeScript("SELECT enqueue_job('sync', 'late') FROM generate_series(1, 3)")
            try conn.transaction { tx in
                try tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                let s = try HealthStore(connection: tx).snapshot().snapshot
                #expect(Self.dict(s.queue(named: "sync")!.counts) == (try Self.rawCounts(tx))["sync"])
                #expect(s.queue(named: "emails")!.latencyMs.samples > 0)
            }
        }
    }

    /// Lead migrations (0002) appear with their progress, as the dashboard's progress bars need.
    @Test func leadMigrationsAppearWithProgress() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let f = try LeadsFixture.make(on: conn, leads: 250, runName: "Restaurantes")
            try conn.execute("SELECT queue_lead_migration(\(f.run), \(f.funnel), \(f.column), 100)")
            try conn.execute("SELECT process_lead_migration_batch(100)")
            let s = try HealthStore(connection: conn).snapshot().snapshot
            let lead = try #require(s.leadMigrations.first)
            #expect(lead.runID == f.run)
            #expect(lead.runName == "Restaurantes")
            #expect(lead.total == 250)
            #expect(lead.moved == 100)
            #expect(lead.remaining == 150)
            #expect(lead.lastBatchAt != nil)
        }
    }

    @Test func seedMonitoringQueriesStillRun() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeDataset(conn)
            // Seed 000, "Queries Úteis", verbatim.
            let queries = [
                """
                SELECT
                    status,
                    COUNT(*) as total,
                    AVG(processing_time_ms) as avg_time_ms,
                    MAX(created_at) as last_created
                FROM job_queue
                GROUP BY status
                ORDER BY total DESC;
                """,
                """
                SELECT
                    date_trunc('hour', completed_at) as hour,
                    COUNT(*) as emails_processed
                FROM job_queue
                WHERE status = 'completed'
                  AND completed_at > NOW() - INTERVAL '24 hours'
                GROUP BY hour
                ORDER BY hour DESC;
                """,
                """
                SELECT
                    error_type,
                    COUNT(*) as total,
                    MAX(last_error_at) as last_occurrence
                FROM job_queue
                WHERE status IN ('failed', 'dead_letter')
                  AND last_error_at > NOW() - INTERVAL '24 hours'
                GROUP BY error_type
                ORDER BY total DESC;
                """,
                """
                SELECT
                    PERCENTILE_CONT(0.50) WITHIN GROUP (ORDER BY processing_time_ms) as p50_ms,
                    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY processing_time_ms) as p95_ms,
                    PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY processing_time_ms) as p99_ms,
                    AVG(processing_time_ms) as avg_ms,
                    MAX(processing_time_ms) as max_ms
                FROM job_queue
                WHERE status = 'completed'
                  AND completed_at > NOW() - INTERVAL '1 hour';
                """,
            ]
            for sql in queries {
                let rows = try conn.query(Query(unsafeSQL: sql))
                #expect(!rows.isEmpty)
            }
        }
    }
}

/// Collects errors from concurrent workers.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func append(_ e: String) { lock.withLock { errors.append(e) } }
    var all: [String] { lock.withLock { errors } }
}

enum StatusReportTime {
    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}
