import Foundation
import JobFilter
import Postgres
import QueueStore
import TestSupport
import Testing

/// The filter language against PostgreSQL: each kind of term returns exactly the jobs plain SQL
/// says match, over a fixture of every state, tenants, dedup keys, workers and payload shapes;
/// pages and windows lose and repeat nothing; counts say when they are a lower bound.
@Suite struct JobSearchTests {
    static func seed(_ conn: Connection) throws { try JobFixtures.mixed(conn) }

    /// Every page of a search, in order.
    static func all(_ store: JobSearchStore, _ text: String, sort: JobSort = .newestFirst, limit: Int = 1000,
                    window: Int = JobSearchRequest.defaultWindow) throws -> [UUID] {
        var request = JobSearchRequest(filter: try JobFilter.parse(text), sort: sort, limit: limit, window: window)
        var ids: [UUID] = []
        for _ in 0..<1000 {
            let page = try store.search(request)
            ids += page.jobs.map(\.id)
            guard let next = page.next else { return ids }
            request.after = next
        }
        Issue.record("search of \(text) did not end")
        return ids
    }

    static func expected(_ conn: Connection, _ condition: String, sort: JobSort = .newestFirst) throws -> [UUID] {
        try conn.query("SELECT id FROM job_queue j WHERE \(unsafeRaw: condition) ORDER BY id \(unsafeRaw: sort == .newestFirst ? "DESC" : "ASC")")
            .map { try $0.decode("id") }
    }

    /// The filter next to plain SQL written independently of JobFilterSQL.
    static let cases: [(String, String)] = [
        ("queue:emails", "queue = 'emails'"),
        ("type:send_email", "job_type = 'send_email'"),
        ("state:pending", "status = 'pending' AND run_at <= now() AND next_retry_at IS NULL"),
        ("state:scheduled", "status = 'pending' AND run_at > now() AND attempt_count = 0"),
        ("state:retrying", "status = 'pending' AND next_retry_at > now()"),
        ("state:running", "status = 'processing'"),
        ("state:completed", "status = 'completed'"),
        ("state:cancelled", "status = 'cancelled'"),
        ("state:dead", "status = 'dead_letter'"),
        ("tenant:shop-2", "tenant = 'shop-2'"),
        ("-tenant:shop-2", "tenant IS DISTINCT FROM 'shop-2'"),
        ("key:store:77", "dedup_key = 'store:77'"),
        ("error:\"smtp 550\"", "error_message ILIKE '%smtp 550%'"),
        ("error:TIMEOUT state:dead", "status = 'dead_letter' AND error_type = 'timeout'"),
        ("worker:host-1", "locked_by = 'host-1:11'"),
        ("worker:host-2:22", "locked_by = 'host-2:22'"),
        ("age>3h", "created_at < now() - interval '3 hours'"),
        ("age<30m", "created_at > now() - interval '30 minutes'"),
        ("payload.to=ana@example.com", "payload->>'to' = 'ana@example.com'"),
        ("payload.order.id=124", "payload->'order'->>'id' = '124'"),
        ("payload.order.id=125", "payload->'order'->>'id' = '125'"),
        ("payload?coupon", "payload ? 'coupon'"),
        ("-payload?coupon queue:sync", "NOT payload ? 'coupon' AND queue = 'sync'"),
        ("type:send_campaign tenant:shop-1 -state:dead", "job_type = 'send_campaign' AND tenant = 'shop-1' AND status <> 'dead_letter'"),
        ("queue:nope", "false"),
    ]

    @Test func eachFilterKindReturnsExactlyWhatPlainSQLReturns() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            let store = JobSearchStore(connection: conn)
            for (text, condition) in Self.cases {
                let want = try Self.expected(conn, condition)
                #expect(try Self.all(store, text) == want, "\(text)")
                #expect(try Self.all(store, text, sort: .oldestFirst, limit: 7) == want.reversed(), "\(text) oldest first")
                let count = try store.count(try JobFilter.parse(text))
                #expect(count == JobCount(value: want.count, exact: true), "\(text)")
            }
            #expect(try Self.all(store, "state:running").count == 60)  // the fixture is what we think it is
            #expect(try Self.all(store, "payload.to=ana@example.com").count == 1)
        }
    }

    @Test func idPartsSinceAndPagesFindTheRightJobs() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            let store = JobSearchStore(connection: conn)
            let target: UUID = try conn.query("SELECT id FROM job_queue WHERE payload->>'to' = 'ana@example.com'").scalar()
            let hex = target.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            #expect(try Self.all(store, "id:" + String(hex.suffix(12))) == [target])
            #expect(try Self.all(store, "id:" + target.uuidString) == [target])
            #expect(try Self.all(store, "id:" + String(hex.prefix(13))).contains(target))

            // since: resolved on the operator's clock; compare with the server's own arithmetic.
            let serverNow: Date = try conn.query("SELECT now()").scalar()
            let clockStore = JobSearchStore(connection: conn, clock: .init(now: serverNow, timeZone: TimeZone(identifier: "UTC")!))
            let since = Calendar.current.date(byAdding: .minute, value: -95, to: serverNow)!
            let utc = ISO8601DateFormatter()
            let text = "since:" + String(utc.string(from: since).prefix(16)) + "Z"
            let flooredSince = try JobFilterSQL.resolve(try #require(SinceParserProbe.since(text)), clock: .init(now: serverNow))
            let want: [UUID] = try conn.query("SELECT id FROM job_queue WHERE created_at >= \(flooredSince)::timestamptz ORDER BY id DESC").map { try $0.decode("id") }
            #expect(try Self.all(clockStore, text) == want)
            #expect(want.count >= 94 && want.count <= 96)

            // Pages of 7, both orders: every job once, in order.
            let everything = try Self.expected(conn, "true")
            #expect(try Self.all(store, "", limit: 7) == everything)
            #expect(try Self.all(store, "", sort: .oldestFirst, limit: 13) == everything.reversed())
        }
    }

    /// A payload term reads only a window of rows; it says so, and "next" continues from the end of
    /// the window, so paging on finds the rest.
    @Test func payloadTermsSearchABoundedWindowAndSayWhatTheySearched() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            let store = JobSearchStore(connection: conn)
            let first = try store.search(JobSearchRequest(filter: try JobFilter.parse("queue:sync payload.to=ana@example.com"), limit: 10, window: 50))
            #expect(first.jobs.isEmpty)  // ana's job (sync) is 297 minutes old: outside the newest 50 of sync
            #expect(first.window == WindowScan(rowsRead: 50, limit: 50, truncated: true))
            #expect(first.window?.describe(sort: .newestFirst, queue: "sync") == "searched the newest 50 jobs of sync; n for more")
            #expect(first.next != nil)
            #expect(try Self.all(store, "queue:sync payload.to=ana@example.com", limit: 10, window: 50).count == 1)
            let want = try Self.expected(conn, "payload ? 'coupon'")
            #expect(try Self.all(store, "payload?coupon", limit: 3, window: 40) == want)
            let bounded = try store.count(try JobFilter.parse("payload?coupon"), window: 100)
            #expect(bounded.exact == false && bounded.description.hasPrefix("≥ "))
            let capped = try store.count(try JobFilter.parse("queue:emails"), cap: 10)
            #expect(capped == JobCount(value: 10, exact: false) && capped.description == "≥ 10")
        }
    }

    @Test func hostileValuesAreBoundNotSpliced() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.seed(conn)
            let store = JobSearchStore(connection: conn)
            for text in [#"queue:"x' OR '1'='1""#, #"payload."a'); DROP TABLE job_queue; --"=1"#, #"error:"%""#, #"error:"_x""#] {
                #expect(try Self.all(store, text).isEmpty, "\(text)")
            }
            let n: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
            #expect(n == 420)
        }
    }
}

/// Parses one since: term (the test builds its text from a Date).
enum SinceParserProbe {
    static func since(_ text: String) -> SinceTime? {
        guard case .since(let t)? = (try? JobFilter.parse(text))?.terms.first?.predicate else { return nil }
        return t
    }
}
