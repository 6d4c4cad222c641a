import Foundation
import JobFilter
import Postgres
@testable import QueueStore
import TestSupport
import Testing

/// 0033's access paths (JobSearchSource's `.due` split, JobSearchDue): `state:pending` reads the
/// ready index plus, per kind (scheduled, retries), either the due range of the deferred index
/// read whole or the kind's id-ordered index; `state:retrying` the waiting range or the retrying
/// index. Whichever path each kind takes, a search returns exactly what plain SQL over run_at
/// returns, page by page in both orders: due and waiting retries, run_at and next_retry_at that
/// disagree, scheduled jobs that came due, jobs created in the future, a paused queue's old jobs,
/// with queue:/type:/time terms and negated ones.
@Suite struct JobSearchDueTests {
    static func seed(_ conn: Connection) throws {
        try JobFixtures.mixed(conn)
        try conn.executeScript("""
            INSERT INTO queues (name) VALUES ('due'), ('held'), ('bulk') ON CONFLICT DO NOTHING;
            UPDATE queues SET paused = true WHERE name = 'held';
            INSERT INTO job_queue (queue, job_type, run_at, attempt_count, next_retry_at, created_at) VALUES
              -- ready: run_at at or before created_at (run_at = now() of this insert: due ever after)
              ('due', 'ready', now(), 0, NULL, now()),
              ('due', 'ready', now() - interval '1 minute', 0, NULL, now()),
              -- created in the future: ready by the index (run_at <= created_at) but not due, and due
              ('due', 'future', now() + interval '1 hour', 0, NULL, now() + interval '1 day'),
              ('due', 'future', now() - interval '1 hour', 0, NULL, now() + interval '1 day'),
              -- scheduled: came due, and still waiting
              ('due', 'sched', now() - interval '1 hour', 0, NULL, now() - interval '2 hours'),
              ('due', 'sched', now() - interval '1 ms', 0, NULL, now() - interval '1 s'),
              ('due', 'sched', now() + interval '1 hour', 0, NULL, now() - interval '2 hours'),
              ('due', 'sched', now() + interval '20 minutes', 0, NULL, now()),
              -- retries: due, waiting, and run_at and next_retry_at disagreeing either way
              ('due', 'retry', now() - interval '1 minute', 1, now() - interval '1 minute', now() - interval '3 hours'),
              ('due', 'retry', now() + interval '30 minutes', 3, now() + interval '30 minutes', now() - interval '3 hours'),
              ('due', 'retry', now() - interval '5 minutes', 2, now() + interval '1 hour', now() - interval '4 hours'),
              ('due', 'retry', now() + interval '1 hour', 2, now() - interval '5 minutes', now() - interval '4 hours'),
              ('due', 'retry', now() + interval '1 hour', 1, NULL, now() - interval '5 hours');
            -- A paused queue's old jobs: due, never claimed.
            INSERT INTO job_queue (id, queue, job_type, run_at, created_at)
            SELECT encode(overlay(uuid_send(gen_random_uuid()) PLACING
                     substring(int8send((extract(epoch FROM c) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid,
                   'held', 'old', c, c
            FROM generate_series(1, 40) g, LATERAL (SELECT now() - interval '2 days' - g * interval '1 minute' AS c) x;
            ANALYZE job_queue;
            """)
    }

    /// More than JobSearchDue.smallSide jobs on one side of a kind, so that kind is walked.
    static func bulk(_ conn: Connection, kind: String, due: Bool) throws {
        let n = JobSearchDue.smallSide + 1
        let attempts = kind == "retry" ? 1 : 0
        let runAt = due ? "now() - interval '10 minutes'" : "now() + interval '2 hours'"
        try conn.executeScript("""
            INSERT INTO job_queue (queue, job_type, run_at, attempt_count, created_at)
            SELECT 'bulk', '\(kind)', \(runAt), \(attempts), now() - interval '1 hour' - g * interval '1 ms'
            FROM generate_series(1, \(n)) g;
            ANALYZE job_queue;
            """)
    }

    static let cases: [(String, String)] = [
        ("state:pending", "status = 'pending' AND run_at <= now()"),
        ("state:retrying", "status = 'pending' AND run_at > now() AND attempt_count > 0"),
        ("-state:pending", "NOT (status = 'pending' AND run_at <= now())"),
        ("-state:retrying state:pending", "status = 'pending' AND run_at <= now()"),
        ("state:pending -queue:bulk", "status = 'pending' AND run_at <= now() AND queue <> 'bulk'"),
        ("state:pending queue:held", "status = 'pending' AND run_at <= now() AND queue = 'held'"),
        ("state:pending type:retry", "status = 'pending' AND run_at <= now() AND job_type = 'retry'"),
        ("state:retrying queue:due", "status = 'pending' AND run_at > now() AND attempt_count > 0 AND queue = 'due'"),
        ("state:pending age>90m", "status = 'pending' AND run_at <= now() AND created_at < now() - interval '90 minutes'"),
        ("state:retrying -type:retry", "status = 'pending' AND run_at > now() AND attempt_count > 0 AND job_type <> 'retry'"),
    ]

    /// Each case against plain SQL: every page, both orders; and the count.
    static func check(_ store: JobSearchStore, _ conn: Connection, limits: [Int], phase: String) throws {
        for (text, condition) in cases {
            let want = try JobSearchTests.expected(conn, condition)
            for limit in limits {
                #expect(try JobSearchTests.all(store, text, sort: .newestFirst, limit: limit) == want, "\(phase): \(text) limit \(limit)")
                #expect(try JobSearchTests.all(store, text, sort: .oldestFirst, limit: limit) == want.reversed(), "\(phase): \(text) oldest, limit \(limit)")
            }
            let count = try store.count(try JobFilter.parse(text))
            #expect(count == JobCount(value: min(want.count, 10_000), exact: want.count <= 10_000), "\(phase): \(text) count")
        }
    }

    /// Which kinds read their side whole: [scheduled, retries] for `state:pending`, [retries]
    /// for `state:retrying`.
    static func readsWhole(_ want: JobSearchDue.Want, _ conn: Connection) throws -> [Bool] {
        let branches = try #require(try JobSearchDue.branches(want, conn))
        return (want == .due ? Array(branches.dropFirst()) : branches).map(\.readWhole)
    }

    @Test func dueStatesReturnExactlyWhatPlainSQLReturnsWhicheverPathEachKindTakes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            let store = JobSearchStore(connection: conn)
            #expect(try Self.readsWhole(.due, conn) == [true, true])
            #expect(try Self.readsWhole(.waitingRetries, conn) == [true])
            try Self.check(store, conn, limits: [1, 3, 50, 1000], phase: "small sides")
            // A window read (a payload term) goes through the same branches.
            let coupon = try JobSearchTests.expected(conn, "status = 'pending' AND run_at <= now() AND payload ? 'coupon'")
            #expect(!coupon.isEmpty)
            for limit in [1, 4] {
                #expect(try JobSearchTests.all(store, "state:pending payload?coupon", limit: limit, window: 7) == coupon)
            }

            // Many due retries and due scheduled jobs (workers stopped): state:pending walks both
            // kinds' id indexes, state:retrying still reads its few waiting retries whole.
            try Self.bulk(conn, kind: "retry", due: true)
            try Self.bulk(conn, kind: "sched", due: true)
            #expect(try Self.readsWhole(.due, conn) == [false, false])
            #expect(try Self.readsWhole(.waitingRetries, conn) == [true])
            try Self.check(store, conn, limits: [50, 1000], phase: "many due")

            // And many waiting retries: state:retrying walks the retrying index too.
            try Self.bulk(conn, kind: "retry", due: false)
            #expect(try Self.readsWhole(.waitingRetries, conn) == [false])
            try Self.check(store, conn, limits: [1000], phase: "many of both")
        }
    }

    /// Without 0033's indexes (a table `migrate` has not built them on yet) the search still
    /// answers, through one plain branch.
    @Test func withoutTheIndexesTheSearchReadsOnePlainBranch() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            try conn.executeScript("DROP INDEX queuetop.\(JobSearchDue.deferredIndex)")
            #expect(try JobSearchDue.branches(.due, conn) == nil)
            let store = JobSearchStore(connection: conn)
            for (text, condition) in Self.cases.prefix(2) {
                #expect(try JobSearchTests.all(store, text, limit: 3) == (try JobSearchTests.expected(conn, condition)), "\(text)")
            }
        }
    }

    /// The branches spell the indexes' predicates as the indexes do: the planner reads each range
    /// from job_queue_deferred_run_at_idx and the ready jobs from job_queue_ready_id_idx (a typo
    /// would silently fall back to a walk of the table).
    @Test func theBranchesCanUseTheirIndexes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            try conn.transaction { c in
                try c.executeScript("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
                let ready: [String] = try c.query("""
                    EXPLAIN SELECT id FROM \(qt: "job_queue") j WHERE \(unsafeRaw: JobSearchDue.ready()) ORDER BY id DESC LIMIT 5
                    """).map { try $0.decode("QUERY PLAN") }
                #expect(ready.joined().contains(JobSearchDue.readyIndex), "\(ready)")
                for (kind, op) in [(0, "<="), (1, "<="), (1, ">")] {
                    let range: [String] = try c.query("""
                        EXPLAIN SELECT count(*) FROM \(qt: "job_queue") j WHERE \(unsafeRaw: JobSearchDue.deferred())
                          AND \(unsafeRaw: JobSearchDue.kind()) = \(kind) AND j.run_at \(unsafeRaw: op) now()
                        """).map { try $0.decode("QUERY PLAN") }
                    let plan = range.joined(separator: "\n")
                    #expect(plan.contains(JobSearchDue.deferredIndex) && plan.contains("Index Cond: ((((attempt_count > 0))::integer = \(kind)) AND (run_at \(op) now()))"),
                            "\(plan)")
                }
            }
        }
    }

    @Test func theSplitFollowsTheTerms() throws {
        func split(_ text: String) throws -> JobSearchSource.Split {
            JobSearchSource.split(for: try JobFilter.parse(text).terms.filter(JobFilterSQL.isIndexed))
        }
        #expect(try split("state:pending") == .due(.due))
        #expect(try split("state:retrying") == .due(.waitingRetries))
        #expect(try split("-state:pending") == .plain)
        #expect(try split("state:pending queue:emails") == .typesOf(queue: "emails"))
        #expect(try split("state:retrying queue:emails") == .due(.waitingRetries), "the waiting retries' range, filtered")
        #expect(try split("state:retrying age>1h") == .due(.waitingRetries))
        #expect(try split("state:retrying tenant:shop-1") == .plain, "the tenant index selects fewer rows")
        #expect(try split("state:pending age>1h") == .time(.age(.greater, seconds: 3600)))
    }
}
