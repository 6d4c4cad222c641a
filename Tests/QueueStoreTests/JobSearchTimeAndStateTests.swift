import Foundation
import JobFilter
import Postgres
@testable import QueueStore
import TestSupport
import Testing

/// 0031's access paths (JobSearchSource's `.time` and `.scheduled` splits, JobCreatedTime): a
/// time filter reads a primary-key range of the jobs whose created_at agrees with their id's
/// time plus job_queue_time_drift_id_idx's jobs; `state:scheduled` reads
/// job_queue_scheduled_id_idx plus the scheduled jobs created in the future. Each must return
/// exactly what plain SQL over created_at / run_at returns, page by page in both orders,
/// whatever the ids: created_at set by hand, ids not drawn by uuid_v7(), ids at the ends of the
/// uuid range, created_at a few microseconds either side of the tolerance.
@Suite struct JobSearchTimeAndStateTests {
    /// `base`: a whole minute three hours ago (a since: instant the parser accepts).
    static func seed(_ conn: Connection) throws -> Date {
        try JobFixtures.mixed(conn)
        let base: Date = try conn.query("SELECT date_trunc('minute', now()) - interval '3 hours'").scalar()
        // The id of a v7 job whose id was drawn at `x` (any timestamptz expression).
        func v7(_ x: String) -> String {
            "encode(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(floor(extract(epoch FROM \(x)) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid"
        }
        try conn.executeScript("CREATE TEMP TABLE b (b timestamptz)")
        _ = try conn.execute("INSERT INTO b VALUES (\(base)::timestamptz)")
        try conn.executeScript("""
            INSERT INTO queues (name) VALUES ('time') ON CONFLICT DO NOTHING;
            -- Ordinary jobs 37 s apart over ±2 h around base: ids drawn up to 0.9 s after created_at.
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT \(v7("c + random() * interval '0.9 s'")), 'time', 'ordinary',
                   (ARRAY['pending', 'completed', 'dead_letter'])[(g + 300) % 3 + 1], c
            FROM generate_series(-200, 199) g, LATERAL (SELECT b + g * interval '37 s' AS c FROM b) x;
            -- At the tolerance's edges: created_at just around base, ids drawn from 1 ms before
            -- to 5 s after it (inside and outside the 1 s / 1 ms the range allows).
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT \(v7("c + o")), 'time', 'edge', 'completed', c
            FROM b, unnest(ARRAY[interval '-1 ms', '-1 microsecond', '0', '1 microsecond', '0.5 ms', '1 ms']) d,
                 LATERAL (SELECT b + d AS c) x,
                 unnest(ARRAY[interval '-1.001 s', '-1 ms', '-0.5 ms', '0', '0.999 s', '1 s', '1.001 s', '5 s', '59.999 s', '60 s', '60.001 s', '2 minutes']) o;
            -- Imported: created_at a month ago with ids of now, and tomorrow with ids of base.
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT \(v7("now()")), 'time', 'imported', 'completed', b - interval '30 days' - g * interval '1 s'
            FROM b, generate_series(1, 20) g;
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT \(v7("b")), 'time', 'imported', 'dead_letter', now() + interval '1 day'
            FROM b, generate_series(1, 5) g;
            -- Ids not drawn by uuid_v7(), and the two ends of the uuid range.
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT gen_random_uuid(), 'time', 'random_id', 'completed', b + g * interval '7 minutes' FROM b, generate_series(-30, 20) g;
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT '00000000-0000-0000-0000-000000000000', 'time', 'ends', 'completed', b FROM b;
            INSERT INTO job_queue (id, queue, job_type, status, created_at)
            SELECT 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'time', 'ends', 'completed', b - interval '1 hour' FROM b;
            -- Scheduled and not: run_at later than created_at (the index), equal, earlier; created
            -- in the future with a v7 id of then and with a random one; due retries and not.
            INSERT INTO job_queue (id, queue, job_type, run_at, attempt_count, created_at) VALUES
              (\(v7("now() + interval '2 hours'")), 'time', 'sched', now() + interval '1 hour', 0, now() + interval '2 hours'),
              (gen_random_uuid(), 'time', 'sched', now() + interval '1 hour', 0, now() + interval '2 hours'),
              (\(v7("now() + interval '1 hour'")), 'time', 'sched', now() + interval '1 hour', 0, now() + interval '1 hour'),
              (uuid_v7(), 'time', 'sched', now() + interval '30 minutes', 0, now()),
              (uuid_v7(), 'time', 'sched', now(), 0, now()),
              (uuid_v7(), 'time', 'sched', now() - interval '1 s', 2, now() - interval '1 minute'),
              (uuid_v7(), 'time', 'sched', now() + interval '1 minute', 2, now() - interval '1 minute'),
              (\(v7("now() - interval '5 hours'")), 'time', 'sched', now() + interval '3 hours', 0, now() - interval '5 hours');
            DROP TABLE b;
            ANALYZE job_queue;
            """)
        return base
    }

    static func sinceText(_ date: Date) -> String {
        let utc = ISO8601DateFormatter()
        return "since:" + String(utc.string(from: date).prefix(16)) + "Z"
    }

    @Test func timeAndStateFiltersReturnExactlyWhatPlainSQLReturnsPageByPage() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let base = try Self.seed(conn)
            // age> and age< move with the server's clock while the test runs (a minute or two):
            // no job within 5 minutes of those boundaries, so both sides agree on every job.
            // (The branches' exactness at the microsecond is the next test's.)
            for d in ["1 hour", "2 hours", "90 minutes", "150 minutes", "4 hours", "20 days"] {
                try conn.executeScript("DELETE FROM job_queue WHERE created_at BETWEEN now() - interval '\(d)' - interval '1 minute' AND now() - interval '\(d)' + interval '5 minutes'")
            }
            let drifting: Int = try conn.query("SELECT count(*)::int FROM job_queue j WHERE \(unsafeRaw: JobCreatedTime.drift())").scalar()
            #expect(drifting >= 40, "the fixture has jobs on both sides of the tolerance")
            let iso = ISO8601DateFormatter()
            let cases: [(String, String)] = [
                ("age>1h", "created_at < now() - interval '1 hour'"),
                ("age>=2h", "created_at <= now() - interval '2 hours'"),
                ("age<90m", "created_at > now() - interval '90 minutes'"),
                ("age<=150m", "created_at >= now() - interval '150 minutes'"),
                ("age>1h age<4h", "created_at < now() - interval '1 hour' AND created_at > now() - interval '4 hours'"),
                ("age>20d", "created_at < now() - interval '20 days'"),
                ("age>5000w", "created_at < now() - interval '35000 days'"),
                (Self.sinceText(base), "created_at >= '\(iso.string(from: base))'"),
                (Self.sinceText(base.addingTimeInterval(-3600)), "created_at >= '\(iso.string(from: base.addingTimeInterval(-3600)))'"),
                ("since:2000-01-01", "created_at >= '2000-01-01T00:00:00Z'"),
                ("-age>1h", "NOT (created_at < now() - interval '1 hour')"),
                ("age>1h state:dead", "created_at < now() - interval '1 hour' AND status IN ('dead_letter', 'failed')"),
                ("age<4h payload?coupon", "created_at > now() - interval '4 hours' AND payload ? 'coupon'"),
                ("state:scheduled", "status = 'pending' AND run_at > now() AND attempt_count = 0"),
                ("state:scheduled type:sched", "status = 'pending' AND run_at > now() AND attempt_count = 0 AND job_type = 'sched'"),
                ("state:completed", "status = 'completed'"),
                ("state:pending", "status = 'pending' AND run_at <= now()"),
                ("state:retrying", "status = 'pending' AND run_at > now() AND attempt_count > 0"),
                // With queue:/type: each pair reads only its id range of T's side, plus the
                // late and drift branches once (JobSearchSource, 0033's issue).
                ("queue:time age>1h", "queue = 'time' AND created_at < now() - interval '1 hour'"),
                ("queue:time age<90m", "queue = 'time' AND created_at > now() - interval '90 minutes'"),
                ("type:edge \(Self.sinceText(base))", "job_type = 'edge' AND created_at >= '\(iso.string(from: base))'"),
                ("queue:time type:imported age>20d", "queue = 'time' AND job_type = 'imported' AND created_at < now() - interval '20 days'"),
                ("queue:time type:random_id age>=2h", "queue = 'time' AND job_type = 'random_id' AND created_at <= now() - interval '2 hours'"),
                ("type:ordinary -age>2h", "job_type = 'ordinary' AND NOT (created_at < now() - interval '2 hours')"),
                ("queue:time age>1h age<4h", "queue = 'time' AND created_at < now() - interval '1 hour' AND created_at > now() - interval '4 hours'"),
            ]
            let clockStore = JobSearchStore(connection: conn, clock: .init(now: Date(), timeZone: TimeZone(identifier: "UTC")!))
            for (text, condition) in cases {
                let want = try JobSearchTests.expected(conn, condition)
                #expect(!want.isEmpty || text == "age>5000w", "\(text) matches some job of the fixture: \(text)")
                for limit in [1, 3, 50, 1000] {
                    #expect(try JobSearchTests.all(clockStore, text, sort: .newestFirst, limit: limit, window: 7) == want, "\(text) limit \(limit)")
                    #expect(try JobSearchTests.all(clockStore, text, sort: .oldestFirst, limit: limit, window: 7) == want.reversed(), "\(text) oldest, limit \(limit)")
                }
                #expect(try clockStore.count(try JobFilter.parse(text)) == JobCount(value: want.count, exact: true), "\(text)")
            }
        }
    }

    /// The branches hold every job on their side of T exactly once: for every T that is some
    /// job's created_at (or a microsecond either side), every job created at or before (after)
    /// T is in exactly one of JobCreatedTime's branches for that side.
    @Test func theBranchesHoldEveryJobOnTheirSideOnce() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try Self.seed(conn)
            let late: Int = try conn.query("SELECT count(*)::int FROM job_queue j WHERE \(unsafeRaw: JobCreatedTime.late())").scalar()
            #expect(late >= 10, "the fixture has late jobs")
            for side in [JobCreatedTime.Side.before, .after] {
                var q = Query.StringInterpolation(literalCapacity: 1024, interpolationCount: 0)
                q.appendLiteral("""
                    SELECT count(*) FILTER (WHERE n <> 1)::int AS wrong, count(*)::int AS seen FROM (
                      SELECT v.at, j.id, 0
                    """)
                for branch in JobCreatedTime.branches(side, { $0.appendLiteral("v.at") }) {
                    q.appendLiteral(" + (true")
                    branch(&q)
                    q.appendLiteral(")::int")
                }
                q.appendLiteral("""
                       AS n
                      FROM job_queue t,
                        LATERAL (VALUES (t.created_at), (t.created_at - interval '1 microsecond'), (t.created_at + interval '1 microsecond')) v(at),
                        job_queue j
                      WHERE t.queue = 'time' AND j.queue = 'time' AND j.created_at \(side == .before ? "<=" : ">=") v.at) x
                    """)
                let row = try conn.run(Query(stringInterpolation: q)).first!
                let wrong: Int = try row.decode("wrong"), seen: Int = try row.decode("seen")
                #expect(wrong == 0 && seen > 1_000, "\(side): every job in exactly one branch (\(wrong) of \(seen) not)")
            }
            // A T beyond what 48 bits of milliseconds hold, or before 1970, still gives bounds.
            for t in ["'infinity'", "'-infinity'", "'1900-01-01Z'", "'200000-01-01Z'"] {
                for side in [JobCreatedTime.Side.before, .after] {
                    for branch in JobCreatedTime.branches(side, { $0.appendLiteral("\(t)::timestamptz") }) {
                        var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 0)
                        q.appendLiteral("SELECT count(*)::int AS n FROM job_queue j WHERE true")
                        branch(&q)
                        _ = try conn.run(Query(stringInterpolation: q)).first!.decode("n") as Int
                    }
                }
            }
        }
    }

    /// The branches spell the partial indexes' predicates as the indexes do: the planner can
    /// read each from its index (a typo would silently fall back to a walk of the table).
    @Test func theBranchesCanUseTheirPartialIndexes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try Self.seed(conn)
            try conn.transaction { c in
                try c.executeScript("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
                let drift: [String] = try c.query("""
                    EXPLAIN SELECT id FROM \(qt: "job_queue") j WHERE \(unsafeRaw: JobCreatedTime.drift()) ORDER BY id DESC LIMIT 5
                    """).map { try $0.decode("QUERY PLAN") }
                #expect(drift.joined().contains("job_queue_time_drift_id_idx"), "\(drift)")
                let late: [String] = try c.query("""
                    EXPLAIN SELECT id FROM \(qt: "job_queue") j WHERE \(unsafeRaw: JobCreatedTime.late()) ORDER BY id DESC LIMIT 5
                    """).map { try $0.decode("QUERY PLAN") }
                #expect(late.joined().contains("job_queue_time_late_id_idx"), "\(late)")
                let scheduled: [String] = try c.query("""
                    EXPLAIN SELECT id FROM \(qt: "job_queue") j WHERE j.status = 'pending' AND j.attempt_count = 0 AND j.run_at > j.created_at ORDER BY id DESC LIMIT 5
                    """).map { try $0.decode("QUERY PLAN") }
                #expect(scheduled.joined().contains("job_queue_scheduled_id_idx"), "\(scheduled)")
            }
        }
    }

    @Test func theSplitFollowsTheTerms() throws {
        func split(_ text: String) throws -> JobSearchSource.Split {
            JobSearchSource.split(for: try JobFilter.parse(text).terms.filter(JobFilterSQL.isIndexed))
        }
        #expect(try split("age>1h") == .time(.age(.greater, seconds: 3600)))
        #expect(try split("state:dead age>1h") == .plain, "the dead index selects fewer rows")
        #expect(try split("queue:emails age>1h") == .typesOf(queue: "emails"))
        #expect(try split("-age>1h") == .plain)
        #expect(try split("state:scheduled") == .scheduled)
        #expect(try split("state:scheduled age<1h") == .time(.age(.less, seconds: 3600)))
        #expect(try split("state:completed") == .plain, "the planner reads job_queue_completed_id_idx")
    }
}
