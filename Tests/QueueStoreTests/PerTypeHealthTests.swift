import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Per-type health (0017): the snapshot's `types` agree with plain SQL over job_queue, the type
/// cap holds against a producer that invents types, health_rebuild reproduces the per-type
/// rollups, and the drain forecast says growing / clears / idle / no backlog as the counts say.
@Suite struct PerTypeHealthTests {
    /// Queue `mixed`: 12 types, t01 with 120 jobs down to t12 with 10; every 5th job of a type
    /// fails once (retryable), the rest complete with known, spread processing times. Plus
    /// completions of t01 from 70 minutes ago, outside the last hour.
    /// With `chunks` > 1 the completions arrive in that many statements (every 4th of the jobs
    /// still running, then every 3rd, ..., then the rest) with a fold after each, so every type's
    /// histogram is merged into its stored arrays more than once (0029).
    static func makeMixed(_ conn: Connection, chunks: Int = 1) throws {
        try conn.executeScript("""
            SELECT enqueue_job('mixed', format('t%s', lpad(k::text, 2, '0')), jsonb_build_object('i', i))
              FROM generate_series(1, 12) k, generate_series(1, (13 - k) * 10) i;
            SELECT count(*) FROM claim_jobs('w1', ARRAY['mixed'], 1000);
            SELECT fail_jobs('w1', array_agg(id), array_agg('boom'::text), array_agg('boom_error'::text))
              FROM (SELECT id, row_number() OVER (PARTITION BY job_type ORDER BY id) AS n FROM job_queue
                    WHERE locked_by = 'w1') x WHERE n % 5 = 0;
            """)
        for chunk in 0..<chunks {
            try conn.executeScript("""
                SELECT complete_jobs('w1', array_agg(id ORDER BY id),
                                     array_agg((1 + (n * 37 * k) % 2000)::int ORDER BY id))
                  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n, substr(job_type, 2)::int AS k
                        FROM job_queue WHERE locked_by = 'w1' AND status = 'processing') x
                 WHERE n % \(chunks - chunk) = 0;
                """ + (chunks > 1 ? "SELECT health_fold();" : ""))
        }
        try conn.executeScript("""
            INSERT INTO job_queue (queue, job_type, status, created_at, started_at, completed_at, processing_time_ms)
            SELECT 'mixed', 't01', 'completed', now() - interval '71 minutes', now() - interval '71 minutes',
                   now() - interval '70 minutes', 5 FROM generate_series(1, 50);
            """)
    }

    /// Exact per-type figures over the last hour (the current minute and the 59 before it) from
    /// the raw rows: completed, failed, and percentile_cont of the processing times.
    static func exact(_ conn: Connection, types: [String]) throws -> (c: Int64, f: Int64, p: [Double]?) {
        let r = try conn.query("""
            SELECT (SELECT count(*) FROM job_queue WHERE queue = 'mixed' AND job_type = ANY(\(types)) AND status = 'completed'
                      AND completed_at >= date_trunc('minute', now()) - interval '59 minutes') AS c,
                   (SELECT count(*) FROM job_queue WHERE queue = 'mixed' AND job_type = ANY(\(types))
                      AND last_error_at >= date_trunc('minute', now()) - interval '59 minutes') AS f,
                   (SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY processing_time_ms)
                      FROM job_queue WHERE queue = 'mixed' AND job_type = ANY(\(types)) AND status = 'completed'
                      AND completed_at >= date_trunc('minute', now()) - interval '59 minutes') AS p
            """).first!
        return (try r.decode("c"), try r.decode("f"), try r.decode("p"))
    }

    static func near(_ estimate: Double?, _ exact: Double, _ relativeError: Double) -> Bool {
        guard let estimate else { return false }
        // The JSON rounds to 0.1 ms; the bound is the histogram's.
        return abs(estimate - exact) <= exact * relativeError + 0.05
    }

    /// The snapshot's `types` of `mixed` against plain SQL over the raw rows; `read` says which
    /// snapshot read: the whole one (`status --json`) or queue detail's (`.queue("mixed")`).
    static func expectTypesMatchRawRows(_ tx: Connection, read: HealthStore.TypeFigures = .all) throws {
        let q = try #require(try HealthStore(connection: tx).snapshot(types: read).snapshot.queue(named: "mixed"))
        let types = try #require(q.types)
        // The 10 busiest by name, busiest first, then other for t11 and t12.
        #expect(types.map(\.type) == (1...10).map { String(format: "t%02d", $0) } + [nil])
        #expect(types.last?.other == true)
        let err = q.latencyMs.relativeError
        for t in types {
            let names = t.type.map { [$0] } ?? ["t11", "t12"]
            let e = try Self.exact(tx, types: names)
            #expect(t.completed == e.c && t.failed == e.f, "counts of \(names)")
            // The JSON rounds the rate to 4 decimals.
        #expect(abs((t.failRate ?? -1) - Double(e.f) / Double(e.c + e.f)) <= 0.00005, "fail rate of \(names)")
            #expect(t.samples == e.c)
            let p = try #require(e.p)
            #expect(Self.near(t.p50, p[0], err) && Self.near(t.p95, p[1], err) && Self.near(t.p99, p[2], err),
                    "percentiles of \(names): \([t.p50, t.p95, t.p99]) against \(p)")
        }
        // Nothing is lost or counted twice: the types add up to the queue's last hour.
        #expect(types.reduce(0) { $0 + $1.completed } == q.lastHour.completed)
        #expect(types.reduce(0) { $0 + $1.failed } == q.lastHour.failed)
    }

    @Test func perTypeFiguresEqualPlainSQLOverTheRawRows() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn)
            try conn.transaction { tx in try Self.expectTypesMatchRawRows(tx) }
        }
    }

    /// The histograms are stored as cumulative arrays that every fold merges into (0029): after
    /// four folds, each adding to every type's arrays, the figures still equal plain SQL.
    @Test func perTypeFiguresEqualPlainSQLAfterManyFolds() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn, chunks: 4)
            #expect(try conn.query("SELECT count(*) FROM queue_event_deltas").scalar(Int64.self) > 0,
                    "the back-dated rows wait in the deltas for the snapshot's fold")
            try conn.transaction { tx in try Self.expectTypesMatchRawRows(tx) }
            // Each array is ascending and cumulative: the last entry is the type's samples.
            let bad: Int64 = try conn.query("""
                SELECT count(*) FROM queue_type_recent r
                WHERE cardinality(r.lat_buckets) <> cardinality(r.lat_cums)
                   OR r.lat_cums[cardinality(r.lat_cums)] IS DISTINCT FROM
                      nullif((SELECT count(*) FROM job_queue j WHERE j.queue = r.queue AND j.job_type = r.job_type
                                AND j.status = 'completed' AND j.completed_at >= date_trunc('minute', now()) - interval '59 minutes'), 0)
                   OR EXISTS (SELECT 1 FROM generate_series(2, cardinality(r.lat_buckets)) i
                              WHERE r.lat_buckets[i] <= r.lat_buckets[i - 1] OR r.lat_cums[i] <= r.lat_cums[i - 1])
                """).scalar()
            #expect(bad == 0)
        }
    }

    /// A database of the layout before 0029 (one queue_type_latency_recent row per type and
    /// bucket, as main kept it) shows the same per-type figures right after `migrate`: 0029
    /// carries the rows over into the arrays. The old layout is rebuilt from a folded fixture,
    /// 0029's record removed, and the real runner applies it again.
    @Test func anUpgradeFromRowsPerBucketKeepsThePerTypeFigures() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn, chunks: 2)
            try conn.executeScript("SELECT health_fold()")
            let before = try HealthStore(connection: conn).snapshot().snapshot.queue(named: "mixed")?.types
            try conn.executeScript("""
                CREATE TABLE queue_type_latency_recent (
                    queue text NOT NULL, job_type text NOT NULL, bucket smallint NOT NULL, count bigint NOT NULL,
                    PRIMARY KEY (queue, job_type, bucket));
                INSERT INTO queue_type_latency_recent
                SELECT r.queue, r.job_type, h.bucket, h.n FROM queue_type_recent r, health_hist_counts(r.lat_buckets, r.lat_cums) h;
                ALTER TABLE queue_type_recent DROP COLUMN lat_buckets, DROP COLUMN lat_cums;
                DELETE FROM schema_migrations WHERE name = '0029_type_histogram_arrays.sql';
                """)
            #expect(try conn.query("SELECT count(*) FROM queue_type_latency_recent").scalar(Int64.self) > 100)
            let applied = try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn)
            #expect(applied.contains("0029_type_histogram_arrays.sql"))
            #expect(try conn.query("SELECT to_regclass('queue_type_latency_recent') IS NULL").scalar(Bool.self))
            let after = try HealthStore(connection: conn).snapshot().snapshot.queue(named: "mixed")?.types
            #expect(after != nil && after == before)
            try conn.transaction { tx in try Self.expectTypesMatchRawRows(tx) }
        }
    }

    /// A database of 0029's layout (one queue_type_latency_minute row per minute, type and
    /// bucket) keeps every minute's histogram through `migrate`: 0030 carries the rows into the
    /// minute rows' arrays, so the minutes sliding out later subtract the same counts, and the
    /// figures read the same. Built like the 0029 test above: the old layout from a folded
    /// fixture, 0030's record removed, the real runner applying it again.
    @Test func anUpgradeFromMinuteBucketRowsKeepsTheMinuteHistograms() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn, chunks: 2)
            try conn.executeScript("SELECT health_fold()")
            let dump = """
                SELECT string_agg(concat_ws(':', queue, minute, job_type, completed, failed, lat_buckets, lat_counts), ','
                                  ORDER BY queue, minute, job_type)
                FROM queue_type_minute
                """
            let minutes = try conn.query("\(unsafeRaw: dump)").scalar(String.self)
            let before = try HealthStore(connection: conn).snapshot().snapshot.queue(named: "mixed")?.types
            try conn.executeScript("""
                CREATE TABLE queue_type_latency_minute (
                    queue text NOT NULL, minute timestamptz NOT NULL, job_type text NOT NULL,
                    bucket smallint NOT NULL, count bigint NOT NULL,
                    PRIMARY KEY (queue, minute, job_type, bucket));
                INSERT INTO queue_type_latency_minute
                SELECT m.queue, m.minute, m.job_type, u.bucket, u.n
                FROM queue_type_minute m, unnest(m.lat_buckets, m.lat_counts) AS u(bucket, n);
                ALTER TABLE queue_type_minute DROP COLUMN lat_buckets, DROP COLUMN lat_counts;
                DELETE FROM schema_migrations WHERE name = '0030_type_minute_histogram_arrays.sql';
                """)
            #expect(try conn.query("SELECT count(*) FROM queue_type_latency_minute").scalar(Int64.self) > 100)
            let applied = try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn)
            #expect(applied.contains("0030_type_minute_histogram_arrays.sql"))
            #expect(try conn.query("SELECT to_regclass('queue_type_latency_minute') IS NULL").scalar(Bool.self))
            #expect(try conn.query("\(unsafeRaw: dump)").scalar(String.self) == minutes)
            let after = try HealthStore(connection: conn).snapshot().snapshot.queue(named: "mixed")?.types
            #expect(after != nil && after == before)
            try conn.transaction { tx in try Self.expectTypesMatchRawRows(tx) }
        }
    }

    /// A window other than the rolling hour reads a top type's histogram from its minute rows'
    /// arrays (0030), not from the stored rolling sums: over a window holding the same events,
    /// every type's counts and percentiles equal the rolling hour's.
    @Test func aWindowOtherThanTheRollingHourReadsTheMinuteArrays() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn, chunks: 3)
            try conn.executeScript("SELECT health_fold()")
            let rows = """
                SELECT string_agg(concat_ws(':', queue, rank, job_type, completed, failed, samples, p50, p95, p99), ','
                                  ORDER BY queue, rank)
                FROM health_breakdown(%@, 10) WHERE rank > 0
                """
            let hour = try conn.query("\(unsafeRaw: rows.replacingOccurrences(of: "%@", with: "(SELECT window_start FROM health_settings)"))")
                .scalar(String.self)
            let other = try conn.query("\(unsafeRaw: rows.replacingOccurrences(of: "%@", with: "(SELECT window_start + interval '1 minute' FROM health_settings)"))")
                .scalar(String.self)
            #expect(hour.contains("t01") && hour.contains("t10"))
            #expect(other == hour)
            #expect(try conn.query("SELECT count(*) FROM queue_type_minute WHERE cardinality(lat_buckets) > 0").scalar(Int64.self) >= 12)
        }
    }

    /// A producer that sends a new type with every job: the rollups keep at most type_cap names
    /// per queue (plus other) across folds, and the counts stay whole.
    @Test func theTypeCapHoldsAgainstThousandsOfInventedTypes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("UPDATE health_settings SET type_cap = 5")
            for round in 0..<3 {
                try conn.executeScript("""
                    SELECT enqueue_job('hostile', format(E'\\x1b]0;pwn\\x07\\x1b[2Jtype-%s-%s', \(round), i))
                      FROM generate_series(1, 1000) i;
                    SELECT count(*) FROM claim_jobs('w', ARRAY['hostile'], 1000);
                    SELECT complete_jobs('w', array_agg(id), array_agg(5)) FROM job_queue WHERE locked_by = 'w' AND status = 'processing';
                    SELECT health_fold();
                    """)
            }
            let rows = try conn.query("""
                SELECT (SELECT count(*) FROM queue_type_recent WHERE queue = 'hostile') AS recent,
                       (SELECT count(DISTINCT job_type) FROM queue_type_minute WHERE queue = 'hostile') AS minute,
                       (SELECT count(*) FROM queue_type_recent WHERE queue = 'hostile' AND cardinality(lat_buckets) > 0) AS latency
                """).first!
            #expect(try rows.decode("recent", as: Int64.self) == 6)
            #expect(try rows.decode("minute", as: Int64.self) == 6)
            #expect(try rows.decode("latency", as: Int64.self) == 6)
            let q = try #require(try HealthStore(connection: conn).snapshot().snapshot.queue(named: "hostile"))
            let types = try #require(q.types)
            #expect(types.count == 6 && types.filter(\.other).count == 1)
            #expect(types.reduce(0) { $0 + $1.completed } == 3000)
            #expect(types.first { $0.other }?.completed == 2995)
            #expect(types.first { $0.other }?.p50 == 5)
        }
    }

    /// health_rebuild recomputes the per-type rollups from job_queue exactly as the trigger and
    /// the fold built them.
    @Test func healthRebuildReproducesThePerTypeRollups() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn)
            let dump = """
                SELECT concat_ws(' / ',
                  (SELECT string_agg(concat_ws(':', queue, job_type, completed, failed, dead_lettered), ',' ORDER BY queue, job_type)
                     FROM queue_type_recent),
                  (SELECT string_agg(concat_ws(':', queue, job_type, lat_buckets, lat_cums), ',' ORDER BY queue, job_type)
                     FROM queue_type_recent),
                  (SELECT string_agg(concat_ws(':', queue, minute, job_type, completed, failed), ',' ORDER BY queue, minute, job_type)
                     FROM queue_type_minute),
                  (SELECT string_agg(concat_ws(':', queue, minute, job_type, lat_buckets, lat_counts), ',' ORDER BY queue, minute, job_type)
                     FROM queue_type_minute))
                """
            try conn.transaction { tx in
                let before = try HealthStore(connection: tx).snapshot().snapshot.queue(named: "mixed")?.types
                let folded = try tx.query("\(unsafeRaw: dump)").scalar(String.self)
                #expect(folded.contains("t01"))
                try tx.query("SELECT health_rebuild()")
                #expect(try tx.query("\(unsafeRaw: dump)").scalar(String.self) == folded)
                #expect(try HealthStore(connection: tx).snapshot().snapshot.queue(named: "mixed")?.types == before)
            }
        }
    }

    /// A minute that leaves the rolling hour leaves the per-type figures, and a type with no
    /// event left in the hour stops being tracked (its place under the cap is free again).
    @Test func minutesSlidingOutOfTheHourLeaveThePerTypeRollups() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.transaction { tx in
                try tx.executeScript("""
                    UPDATE health_settings SET window_start = date_trunc('minute', now()) - interval '70 minutes';
                    INSERT INTO queue_type_minute VALUES
                        ('q', date_trunc('minute', now()) - interval '65 minutes', 'old', 3, 1, 0, '{10}', '{3}'),
                        ('q', date_trunc('minute', now()) - interval '65 minutes', 'new', 3, 0, 0, '{10,12}', '{1,2}'),
                        ('q', date_trunc('minute', now()) - interval '10 minutes', 'new', 3, 0, 0, '{10,14}', '{2,1}');
                    -- The rolling sums of those minutes: new's buckets 10, 12, 14 hold 3, 2, 1.
                    INSERT INTO queue_type_recent VALUES ('q', 'old', 3, 1, 0, '{10}', '{3}'), ('q', 'new', 6, 0, 0, '{10,12,14}', '{3,5,6}');
                    SELECT health_fold();
                    """)
                #expect(try tx.query("SELECT string_agg(job_type || ':' || completed, ',') FROM queue_type_recent").scalar(String.self) == "new:3")
                // Bucket 12 empties and goes; 10 keeps the later minute's 2; the arrays stay cumulative.
                #expect(try tx.query("SELECT string_agg(job_type || ':' || lat_buckets::text || lat_cums::text, ',') FROM queue_type_recent")
                            .scalar(String.self) == "new:{10,14}{2,3}")
                #expect(try tx.query("SELECT string_agg(job_type, ',') FROM queue_type_minute").scalar(String.self) == "new")
            }
        }
    }

    /// A reader that cannot fold (read-only, e.g. a standby) adds the unfolded deltas to the
    /// folded per-type rows, bucket by bucket (the same buckets come from both), and its figures
    /// still equal plain SQL over the raw rows.
    @Test func unfoldedDeltasAddToTheFoldedPerTypeFigures() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.makeMixed(conn)
            try conn.executeScript("""
                SELECT health_fold();
                SELECT enqueue_job('mixed', format('t%s', lpad(k::text, 2, '0')), jsonb_build_object('j', i))
                  FROM generate_series(1, 3) k, generate_series(1, 40) i;
                SELECT count(*) FROM claim_jobs('w2', ARRAY['mixed'], 1000);
                SELECT complete_jobs('w2', array_agg(id ORDER BY id), array_agg((1 + (n * 53) % 2000)::int ORDER BY id))
                  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM job_queue
                        WHERE locked_by = 'w2' AND status = 'processing') x;
                """)
            #expect(try conn.query("SELECT count(*) FROM queue_event_deltas WHERE job_type = 't01'").scalar(Int64.self) > 0)
            try conn.transaction { tx in
                try tx.execute("SET TRANSACTION READ ONLY")
                try Self.expectTypesMatchRawRows(tx)
            }
        }
    }

    /// The snapshot computes every queue's latency and per-type figures in one call: no function
    /// runs once per queue or per type for them (each such call planned its SQL again, which
    /// made the refresh cost grow with queues x types; docs/HEALTH.md, "What it costs").
    @Test func theSnapshotComputesEveryQueuesTypesInOneCall() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                SELECT enqueue_job(format('q%s', q), format('t%s', k), '{}') FROM generate_series(1, 6) q, generate_series(1, 4) k;
                SELECT count(*) FROM claim_jobs('w', ARRAY['q1', 'q2', 'q3', 'q4', 'q5', 'q6'], 100);
                SELECT complete_jobs('w', array_agg(id), array_agg(7)) FROM job_queue WHERE locked_by = 'w';
                """)
            try conn.transaction { tx in
                try tx.execute("SET LOCAL track_functions = 'all'")
                let q = try #require(try HealthStore(connection: tx).snapshot().snapshot.queue(named: "q6"))
                #expect(q.types?.count == 4 && q.types?.first?.p50 == 7)
                let calls = try tx.query("""
                    SELECT coalesce(string_agg(f.funcname || ':' || f.calls, ',' ORDER BY f.funcname), '')
                    FROM pg_stat_xact_user_functions f JOIN pg_proc p ON p.oid = f.funcid
                    WHERE f.funcname <> 'queue_health_snapshot' AND p.proconfig IS NOT NULL
                      AND (f.calls >= 6 OR f.funcname = 'health_breakdown')
                    """).scalar(String.self)
                // Pure helpers (no SET clause, 90_privileges.sql) are planned once per statement
                // that calls them, so they are left out. Of the rest: one index probe per queue
                // for its oldest pending job, planned once for all queues; nothing else per queue.
                #expect(calls == "health_breakdown:1,health_oldest_pending_seconds:6")
            }
        }
    }

    /// Controlled arrivals (created_at) and departures (completed_at) over the last 10 minutes.
    @Test func theDrainForecastFollowsTheNetRate() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript("""
                INSERT INTO queues (name) VALUES ('draining'), ('idle'), ('empty') ON CONFLICT DO NOTHING;
                -- draining: 600 waiting since 2 h ago, 100 finished in the last 5 min, none arrived.
                INSERT INTO job_queue (queue, job_type, created_at) SELECT 'draining', 't', now() - interval '2 hours' FROM generate_series(1, 600);
                INSERT INTO job_queue (queue, job_type, status, created_at, completed_at, processing_time_ms)
                SELECT 'draining', 't', 'completed', now() - interval '2 hours', now() - interval '5 minutes', 10 FROM generate_series(1, 100);
                -- growing: 50 enqueued now, 10 finished.
                SELECT enqueue_job('growing', 't') FROM generate_series(1, 50);
                INSERT INTO job_queue (queue, job_type, status, created_at, completed_at, processing_time_ms)
                SELECT 'growing', 't', 'completed', now() - interval '2 hours', now(), 10 FROM generate_series(1, 10);
                -- idle: 20 waiting since 2 h ago, nothing moved in 10 min.
                INSERT INTO job_queue (queue, job_type, created_at) SELECT 'idle', 't', now() - interval '2 hours' FROM generate_series(1, 20);
                INSERT INTO job_queue (queue, job_type, status, created_at, completed_at, processing_time_ms)
                SELECT 'idle', 't', 'completed', now() - interval '2 hours', now() - interval '30 minutes', 10 FROM generate_series(1, 5);
                -- empty: work went through, nothing left.
                INSERT INTO job_queue (queue, job_type, status, created_at, completed_at, processing_time_ms)
                SELECT 'empty', 't', 'completed', now() - interval '2 hours', now(), 10 FROM generate_series(1, 5);
                """)
            let s = try HealthStore(connection: conn).snapshot().snapshot
            let draining = try #require(s.queue(named: "draining")?.forecast)
            #expect(draining.state == "clears" && draining.backlog == 600 && draining.arrived == 0 && draining.departed == 100)
            // 100 per 540..600 s leaves 600 in 54..60 min.
            #expect((54...60).contains(draining.clearsInMinutes ?? 0), "\(draining)")
            #expect(draining.summary == "clears in ~\(draining.clearsInMinutes ?? 0) min")
            let growing = try #require(s.queue(named: "growing")?.forecast)
            #expect(growing.state == "growing" && growing.arrived == 50 && growing.departed == 10 && growing.clearsInMinutes == nil)
            #expect(s.queue(named: "idle")?.forecast?.state == "idle")
            #expect(s.queue(named: "empty")?.forecast?.state == "no_backlog")
        }
    }
}
