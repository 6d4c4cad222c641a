import Foundation
import JobFilter
import Postgres
@testable import QueueStore
import Synchronization
import TestSupport
import Testing

/// A payload or error search reads its window in chunks, each its own short transaction
/// (JobSearchStore.windowChunk): with a chunk of 3 rows every page, window end and continuation
/// falls mid-chunk or on a chunk boundary somewhere, and each must give exactly what one read
/// of the whole window gives, and what plain SQL over that window says.
@Suite struct JobSearchChunkTests {
    /// Filters whose payload or error term reads a window, over each access path a window can
    /// come from (the plain one, a queue's loose scan, a type's, a selective partial index).
    static let filters = [
        "payload?coupon", "payload.to=ana@example.com", "error:smtp", "-payload?coupon queue:sync",
        "type:send_email payload?coupon", "state:dead error:timeout", "payload.nothing=here",
    ]

    static func store(_ conn: Connection, chunk: Int) -> JobSearchStore {
        var store = JobSearchStore(connection: conn)
        store.chunkRows = chunk
        return store
    }

    /// Every page of a search, as returned.
    static func pages(_ store: JobSearchStore, _ request: JobSearchRequest) throws -> [JobSearchPage] {
        var request = request
        var pages: [JobSearchPage] = []
        for _ in 0..<2000 {
            let page = try store.search(request)
            pages.append(page)
            guard let next = page.next else { return pages }
            request.after = next
        }
        Issue.record("search did not end")
        return pages
    }

    @Test func tinyChunksGiveTheSamePagesAsOneReadOfTheWindow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let chunked = Self.store(conn, chunk: 3)
            let whole = Self.store(conn, chunk: 10_000_000)
            // Windows: a chunk, two chunks, mid-chunk, and larger than the table (420 jobs).
            for text in Self.filters {
                for sort in JobSort.allCases {
                    for (limit, window) in [(1, 3), (2, 6), (3, 7), (5, 40), (4, 100_000), (50, 1000), (1000, 2)] {
                        let request = JobSearchRequest(filter: try JobFilter.parse(text), sort: sort, limit: limit, window: window)
                        let got = try Self.pages(chunked, request)
                        #expect(got == (try Self.pages(whole, request)), "\(text) \(sort) limit \(limit) window \(window)")
                    }
                }
            }
        }
    }

    /// The first page against plain SQL: the newest `window` rows of the indexed terms, then the
    /// payload term over those, the newest `limit` of the matches; what it says it searched.
    @Test func aFirstPageIsWhatPlainSQLFindsInTheWindow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let store = Self.store(conn, chunk: 3)
            let total: Int = try conn.query("SELECT count(*)::int AS n FROM job_queue").first!.decode("n")
            // coupon is in 3 of every 4 payloads (g % 4 = 1 or 2): a page of 3 ends mid-chunk, of 6 at
            // a chunk boundary or not depending on where the matches fall; windows end both ways.
            for (limit, window) in [(3, 9), (6, 9), (3, 4), (100, 9), (100, 10), (1000, 100_000)] {
                // \(window) and \(limit) are bind parameters ($1, $2): Query's interpolation of a
                // value binds it; only \(unsafeRaw:) splices text.
                let want: [UUID] = try conn.query("""
                    SELECT id FROM (SELECT * FROM job_queue ORDER BY id DESC LIMIT \(window)) w
                    WHERE payload ? 'coupon' ORDER BY id DESC LIMIT \(limit)
                    """).map { try $0.decode("id") }
                let page = try store.search(JobSearchRequest(filter: try JobFilter.parse("payload?coupon"), limit: limit, window: window))
                #expect(page.jobs.map(\.id) == want, "limit \(limit) window \(window)")
                if want.count < limit {
                    let read = min(window, total)
                    #expect(page.window == WindowScan(rowsRead: read, limit: window, truncated: window <= total))
                } else {
                    #expect(page.window == nil)
                }
            }
            // A whole-table window reads every row, in chunks, and says so.
            let all = try store.search(JobSearchRequest(filter: try JobFilter.parse("payload.nothing=here"), window: 100_000))
            #expect(all.jobs.isEmpty && all.next == nil)
            #expect(all.window?.describe(sort: .newestFirst, queue: nil) == "searched all \(total) jobs the other terms select")
        }
    }

    @Test func countsReadTheWindowInChunksToo() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            let chunked = Self.store(conn, chunk: 3)
            let whole = Self.store(conn, chunk: 10_000_000)
            for text in Self.filters {
                for (cap, window) in [(10_000, 100_000), (10_000, 9), (10_000, 10), (5, 100_000), (1, 3), (2, 1000)] {
                    let filter = try JobFilter.parse(text)
                    #expect(try chunked.count(filter, cap: cap, window: window) == whole.count(filter, cap: cap, window: window),
                            "\(text) cap \(cap) window \(window)")
                }
            }
            let coupons: Int = try conn.query("SELECT count(*)::int AS n FROM job_queue WHERE payload ? 'coupon'").first!.decode("n")
            #expect(try chunked.count(try JobFilter.parse("payload?coupon"), window: 100_000) == JobCount(value: coupons, exact: true))
        }
    }

    /// The point of chunking: between chunks the search holds no transaction, and so no snapshot
    /// that would keep the claim index's dead entries alive. Probed from another session: at
    /// every chunk boundary the search's backend is idle (not "idle in transaction") with no
    /// xmin, and no chunk read more rows than the chunk size.
    @Test func betweenChunksTheSearchHoldsNoSnapshot() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let probe = try db.connect()
            defer { probe.close() }
            try JobFixtures.mixed(conn)
            let pid: Int = try conn.query("SELECT pg_backend_pid() AS pid").first!.decode("pid")
            struct Seen: Sendable { var chunks = 0; var largest = 0; var states: Set<String> = [] }
            let seen = Mutex(Seen())
            var store = Self.store(conn, chunk: 3)
            store.afterChunk = { rows in
                let row = try probe.query(
                    "SELECT state, (backend_xmin IS NULL AND backend_xid IS NULL) AS free FROM pg_stat_activity WHERE pid = \(pid)"
                ).first!
                let state: String = try row.decode("state"), free: Bool = try row.decode("free")
                seen.withLock {
                    $0.chunks += 1; $0.largest = max($0.largest, rows)
                    $0.states.insert(free ? state : "\(state) with a snapshot")
                }
            }
            let page = try store.search(JobSearchRequest(filter: try JobFilter.parse("payload.nothing=here"), window: 30))
            #expect(page.window == WindowScan(rowsRead: 30, limit: 30, truncated: true))
            _ = try store.count(try JobFilter.parse("payload.nothing=here"), window: 30)
            let result = seen.withLock { $0 }
            #expect(result.chunks == 20)  // 10 chunks of 3 for the search, 10 for the count
            #expect(result.largest == 3)
            #expect(result.states == ["idle"])
        }
    }

    /// The timeout bounds the whole chunked read, not each chunk: once it has passed, the next
    /// chunk is not started and the search fails with the timeout's message.
    @Test func theTimeoutIsADeadlineForAllChunks() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try JobFixtures.mixed(conn)
            var store = Self.store(conn, chunk: 3)
            let chunks = Mutex(0)
            // Sleep past the deadline after the first chunk (a stand-in for a slow chunk).
            store.afterChunk = { _ in chunks.withLock { $0 += 1 }; Thread.sleep(forTimeInterval: 0.6) }
            #expect {
                try store.search(JobSearchRequest(filter: try JobFilter.parse("payload.nothing=here"), window: 300, timeout: 0.5))
            } throws: { error in
                "\(error)".contains("took longer than 0.5 s")
            }
            #expect(chunks.withLock { $0 } == 1)
            #expect {
                try store.count(try JobFilter.parse("payload.nothing=here"), window: 300, timeout: 0.5)
            } throws: { error in
                "\(error)".contains("took longer than 0.5 s")
            }
        }
    }
}
