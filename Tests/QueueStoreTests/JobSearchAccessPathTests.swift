import Foundation
import JobFilter
import Postgres
@testable import QueueStore
import TestSupport
import Testing

/// The access paths of JobSearchSource (0027): `queue:X` merges the newest rows of each of X's
/// types, `type:Y` those of every queue, found by a loose scan of (queue, job_type, id); an id part
/// is a prefix range plus a suffix range. Each must return exactly what plain SQL returns, page by
/// page in both orders, including queues and types that have a single job, and fall back to one
/// plain read when the index is missing or there are too many values to merge.
@Suite struct JobSearchAccessPathTests {
    /// The mixed fixture plus a long tail: queues q00…q69 (more than JobSearchSource.maxBranches)
    /// where queue q00 holds one job of its own type, and type `once` appears in exactly one job
    /// of queue `sync`; jobs of one (queue, type) created out of id order do not matter (id order
    /// is what pages follow).
    static func seed(_ conn: Connection) throws {
        try JobFixtures.mixed(conn)
        try conn.executeScript("""
            INSERT INTO queues (name) SELECT 'q' || lpad(g::text, 2, '0') FROM generate_series(0, 69) g ON CONFLICT DO NOTHING;
            INSERT INTO job_queue (queue, job_type, status, created_at)
            SELECT 'q' || lpad((g % 70)::text, 2, '0'), CASE WHEN g % 70 = 0 THEN 'lonely' ELSE 'bulk_' || (g % 3) END,
                   (ARRAY['pending', 'completed', 'dead_letter'])[g % 3 + 1], now() - make_interval(secs => g)
            FROM generate_series(0, 69 + 70 * 4) g WHERE g % 70 <> 0 OR g = 0;
            INSERT INTO job_queue (queue, job_type, created_at) VALUES ('sync', 'once', now() - interval '200 minutes');
            ANALYZE job_queue;
            """)
    }

    static func all(_ store: JobSearchStore, _ text: String, sort: JobSort, limit: Int, window: Int = 200_000) throws -> [UUID] {
        try JobSearchTests.all(store, text, sort: sort, limit: limit, window: window)
    }

    static let cases: [(String, String)] = [
        ("queue:emails", "queue = 'emails'"),
        ("queue:q00", "queue = 'q00'"),
        ("queue:q05", "queue = 'q05'"),
        ("type:once", "job_type = 'once'"),
        ("type:lonely", "job_type = 'lonely'"),
        ("type:send_email", "job_type = 'send_email'"),
        ("type:bulk_1", "job_type = 'bulk_1'"),
        ("queue:sync state:pending", "queue = 'sync' AND status = 'pending' AND run_at <= now()"),
        ("type:bulk_2 state:completed", "job_type = 'bulk_2' AND status = 'completed'"),
        ("queue:emails age>3h", "queue = 'emails' AND created_at < now() - interval '3 hours'"),
        ("queue:emails -type:send_email", "queue = 'emails' AND job_type <> 'send_email'"),
        ("queue:sync type:once", "queue = 'sync' AND job_type = 'once'"),
        ("queue:emails type:send_email state:pending", "queue = 'emails' AND job_type = 'send_email' AND status = 'pending' AND run_at <= now()"),
        ("queue:nope", "false"),
        ("type:nope", "false"),
        ("state:running", "status = 'processing'"),
        ("state:dead", "status IN ('dead_letter', 'failed')"),
        ("state:cancelled", "status = 'cancelled'"),
        ("worker:host-1", "locked_by = 'host-1:11'"),
    ]

    @Test func looseScansReturnExactlyWhatPlainSQLReturnsPageByPage() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            let store = JobSearchStore(connection: conn)
            let queues: Int = try conn.query("SELECT count(DISTINCT queue)::int FROM job_queue").scalar()
            #expect(queues > JobSearchSource.maxBranches, "type: falls back to one plain read here")
            for (text, condition) in Self.cases {
                let want = try JobSearchTests.expected(conn, condition)
                for limit in [1, 2, 7, 1000] {
                    #expect(try Self.all(store, text, sort: .newestFirst, limit: limit) == want, "\(text) limit \(limit)")
                    #expect(try Self.all(store, text, sort: .oldestFirst, limit: limit) == want.reversed(), "\(text) oldest, limit \(limit)")
                }
                #expect(try store.count(try JobFilter.parse(text)) == JobCount(value: want.count, exact: true), "\(text)")
                #expect(try store.count(try JobFilter.parse(text), cap: 2) == JobCount(value: min(want.count, 2), exact: want.count <= 2), "\(text) capped")
            }
        }
    }

    /// With fewer queues than the merge limit, `type:` goes through the loose scan over queues
    /// (on the fixture above it falls back): remove the long tail and compare again, a payload
    /// window included.
    @Test func typeAcrossFewQueuesMergesEveryQueue() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            try conn.executeScript("DELETE FROM job_queue WHERE queue ~ '^q[0-9]+$' AND queue NOT IN ('q00', 'q01'); ANALYZE job_queue")
            let values = try conn.transaction { try JobSearchSource.looseScan(typesOf: nil, $0) }
            #expect(values == ["emails", "q00", "q01", "sync"], "the loose scan finds every queue, the one-job queue too")
            #expect(try conn.transaction { try JobSearchSource.looseScan(typesOf: "sync", $0) } == ["once", "send_campaign", "send_email", "sync_store"])
            let store = JobSearchStore(connection: conn)
            for (text, condition) in [("type:once", "job_type = 'once'"), ("type:lonely", "job_type = 'lonely'"),
                                      ("type:send_campaign", "job_type = 'send_campaign'"),
                                      ("type:bulk_1", "job_type = 'bulk_1'"),
                                      ("type:send_email payload?coupon", "job_type = 'send_email' AND payload ? 'coupon'")] {
                let want = try JobSearchTests.expected(conn, condition)
                for limit in [1, 3, 1000] {
                    #expect(try Self.all(store, text, sort: .newestFirst, limit: limit, window: 5) == want, "\(text) limit \(limit)")
                    #expect(try Self.all(store, text, sort: .oldestFirst, limit: limit, window: 5) == want.reversed(), "\(text) oldest")
                }
            }
        }
    }

    /// Without 0027's (queue, job_type, id) (a database `migrate` has not finished with), the same
    /// filters read one plain branch and still return the same jobs.
    @Test func withoutThePairIndexTheSearchStillFindsEverything() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            try conn.executeScript("DROP INDEX job_queue_queue_type_id_idx")
            #expect(try conn.transaction { try JobSearchSource.looseScan(typesOf: "sync", $0) } == nil)
            let store = JobSearchStore(connection: conn)
            for (text, condition) in Self.cases.prefix(7) {
                let want = try JobSearchTests.expected(conn, condition)
                #expect(try Self.all(store, text, sort: .newestFirst, limit: 3) == want, "\(text)")
            }
        }
    }

    /// `id:` reads a prefix or a suffix, as `:job` does: through the primary key and the tail
    /// index, never the window. A part that is both a prefix and a suffix of one id lists it once.
    @Test func idPartsArePrefixesOrSuffixesFoundThroughIndexes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            // An id whose first and last three digits are the same, and its neighbours.
            try conn.executeScript("""
                INSERT INTO job_queue (id, queue, job_type) VALUES
                  ('abc00000-0000-7000-8000-000000000abc', 'sync', 'x'),
                  ('abc00000-0000-7000-8000-000000000abd', 'sync', 'x'),
                  ('0000abc0-0000-7000-8000-000000000000', 'sync', 'x'),
                  ('00000000-0000-7000-8000-00000abc0001', 'sync', 'x')
                """)
            let store = JobSearchStore(connection: conn)
            let ana: UUID = try conn.query("SELECT id FROM job_queue WHERE payload->>'to' = 'ana@example.com'").scalar()
            let hex = ana.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let fixed: [String] = ["abc", "ABC", "abc0", "0abc", "000abc", "abd"]
            let fromAna: [String] = [String(hex.suffix(12)), String(hex.suffix(20)), String(hex.prefix(13)),
                                     String(hex.prefix(5)), String(hex.dropFirst(10).prefix(8))]
            for part in fixed + fromAna {
                let p = part.lowercased()
                // The part is a value: bound, never spliced into the SQL text (docs/SQL_LAYOUT.md).
                let want: [UUID] = try conn.query("""
                    SELECT id FROM job_queue WHERE replace(id::text, '-', '') LIKE \(p)::text || '%' OR replace(id::text, '-', '') LIKE '%' || \(p)::text
                    ORDER BY id DESC
                    """).map { try $0.decode("id") }
                for limit in [1, 5, 1000] {
                    #expect(try Self.all(store, "id:" + part, sort: .newestFirst, limit: limit) == want, "id:\(part) limit \(limit)")
                    #expect(try Self.all(store, "id:" + part, sort: .oldestFirst, limit: limit) == want.reversed(), "id:\(part) oldest")
                }
                let page = try store.search(JobSearchRequest(filter: try JobFilter.parse("id:" + part), limit: 1000))
                #expect(page.window == nil, "id:\(part) is indexed: no window")
                #expect(try store.count(try JobFilter.parse("id:" + part)) == JobCount(value: want.count, exact: true))
                let negated: [UUID] = try conn.query("""
                    SELECT id FROM job_queue WHERE NOT (replace(id::text, '-', '') LIKE \(p)::text || '%' OR replace(id::text, '-', '') LIKE '%' || \(p)::text)
                    ORDER BY id DESC
                    """).map { try $0.decode("id") }
                #expect(try Self.all(store, "-id:" + part, sort: .newestFirst, limit: 1000) == negated, "-id:\(part)")
            }
            let abc = Set(try Self.all(store, "id:abc", sort: .newestFirst, limit: 1000).map { $0.uuidString.lowercased() })
            #expect(abc.isSuperset(of: ["abc00000-0000-7000-8000-000000000abc", "abc00000-0000-7000-8000-000000000abd"]))
            #expect(abc.isDisjoint(with: ["0000abc0-0000-7000-8000-000000000000", "00000000-0000-7000-8000-00000abc0001"]),
                    "a part from the middle of an id is neither a prefix nor a suffix")
            #expect(try Self.all(store, "id:" + String(hex.suffix(12)), sort: .newestFirst, limit: 10) == [ana])
            // Fullwidth digits are not hex: a clear error, nothing read.
            #expect(throws: JobFilterError.self) { try JobFilter.parse("id:\u{FF10}\u{FF11}\u{FF12}") }
        }
    }

    /// Which path each filter takes: a term with a selective index of its own is left to the
    /// planner instead of being walked pair by pair.
    @Test func theSplitFollowsTheTerms() throws {
        func split(_ text: String) throws -> JobSearchSource.Split {
            JobSearchSource.split(for: try JobFilter.parse(text).terms.filter(JobFilterSQL.isIndexed))
        }
        #expect(try split("queue:emails") == .typesOf(queue: "emails"))
        #expect(try split("type:x") == .queuesOf(type: "x"))
        #expect(try split("queue:emails type:x") == .pair(queue: "emails", type: "x"))
        #expect(try split("queue:emails state:dead") == .plain)
        #expect(try split("queue:emails state:completed") == .typesOf(queue: "emails"))
        #expect(try split("type:x tenant:shop-1") == .plain)
        #expect(try split("-queue:emails") == .plain)
        #expect(try split("queue:emails payload?x") == .typesOf(queue: "emails"))
        #expect(try split("id:abcd queue:emails") == .idPart("abcd"))
        #expect(try split("-id:abcd") == .plain)
    }
}
