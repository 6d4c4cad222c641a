import Foundation
import JobFilter
import Postgres

/// One job as the jobs screen and `queuetop jobs list` show it.
public struct JobSummary: Sendable, Equatable {
    public var id: UUID
    public var queue: String
    public var jobType: String
    public var state: JobState
    public var priority: Int
    public var tenant: String?
    public var dedupKey: String?
    public var attemptCount: Int
    public var maxAttempts: Int
    public var createdAt: Date
    public var runAt: Date
    public var startedAt: Date?
    public var heartbeatAt: Date?
    public var completedAt: Date?
    public var lockedBy: String?
    public var cancelReason: String?
    public var errorType: String?
    public var errorMessage: String?

    public init(id: UUID, queue: String, jobType: String, state: JobState, priority: Int = 0, tenant: String? = nil,
                dedupKey: String? = nil, attemptCount: Int = 0, maxAttempts: Int = 5, createdAt: Date, runAt: Date,
                startedAt: Date? = nil, heartbeatAt: Date? = nil, completedAt: Date? = nil, lockedBy: String? = nil,
                cancelReason: String? = nil, errorType: String? = nil, errorMessage: String? = nil) {
        self.id = id; self.queue = queue; self.jobType = jobType; self.state = state; self.priority = priority
        self.tenant = tenant; self.dedupKey = dedupKey; self.attemptCount = attemptCount; self.maxAttempts = maxAttempts
        self.createdAt = createdAt; self.runAt = runAt; self.startedAt = startedAt; self.heartbeatAt = heartbeatAt
        self.completedAt = completedAt; self.lockedBy = lockedBy; self.cancelReason = cancelReason
        self.errorType = errorType; self.errorMessage = errorMessage
    }
}

extension JobSummary {
    /// A dead-letter job as the jobs screen lists it: one shape for every job sample a
    /// confirmation shows (a DLQ requeue's as well as a Jobs-screen bulk action's).
    public init(deadLetter job: DLQJob) {
        self.init(id: job.id, queue: job.queue, jobType: job.jobType, state: .dead, attemptCount: job.attemptCount,
                  maxAttempts: job.maxAttempts, createdAt: job.createdAt, runAt: job.createdAt,
                  completedAt: job.lastErrorAt, errorType: job.errorType, errorMessage: job.errorMessage)
    }
}

/// Newest first (the default) or oldest first, by creation: ids are UUIDv7, so id order is
/// creation order and the primary key serves both directions.
public enum JobSort: String, Sendable, CaseIterable {
    case newestFirst = "newest", oldestFirst = "oldest"
}

/// A search: a filter, an order, and where the previous page stopped.
public struct JobSearchRequest: Sendable, Equatable {
    public var filter: JobFilter
    public var sort: JobSort
    /// Continue after this id (the previous page's `next`); nil: the first page.
    public var after: UUID?
    public var limit: Int
    /// How many rows (of those the indexed terms select) a payload or error term may
    /// read per page. The newest first, or the oldest first when sorted so.
    public var window: Int
    /// The statement timeout of each query, in seconds.
    public var timeout: Double

    public static let defaultWindow = 200_000

    public init(filter: JobFilter, sort: JobSort = .newestFirst, after: UUID? = nil, limit: Int = 50,
                window: Int = JobSearchRequest.defaultWindow, timeout: Double = 5) {
        self.filter = filter; self.sort = sort; self.after = after; self.limit = limit
        self.window = window; self.timeout = timeout
    }
}

/// One page of results, and what was searched to find it.
public struct JobSearchPage: Sendable, Equatable {
    public var jobs: [JobSummary]
    /// Where the next page starts (pass as `after`); nil when nothing is left to search.
    public var next: UUID?
    /// Set when the filter needed a bounded window: how many rows it read, and whether older
    /// (or, sorted oldest first, newer) rows were left unsearched.
    public var window: WindowScan?

    public init(jobs: [JobSummary], next: UUID?, window: WindowScan?) {
        self.jobs = jobs; self.next = next; self.window = window
    }
}

public struct WindowScan: Sendable, Equatable {
    public var rowsRead: Int
    public var limit: Int
    /// The window was full: rows beyond it were not searched (ask for the next page).
    public var truncated: Bool

    public init(rowsRead: Int, limit: Int, truncated: Bool) {
        self.rowsRead = rowsRead; self.limit = limit; self.truncated = truncated
    }

    /// "searched the newest 200,000 jobs of emails; n for more"
    public func describe(sort: JobSort, queue: String?) -> String {
        let which = sort == .newestFirst ? "newest" : "oldest"
        let of = queue.map { " of \($0)" } ?? ""
        if truncated { return "searched the \(which) \(grouped(rowsRead)) jobs\(of); n for more" }
        return "searched all \(grouped(rowsRead)) jobs\(of) the other terms select"
    }
}

/// A count that is exact when it was cheap, otherwise a lower bound ("≥ 10,000").
public struct JobCount: Sendable, Equatable, CustomStringConvertible {
    public var value: Int
    public var exact: Bool
    public init(value: Int, exact: Bool) { self.value = value; self.exact = exact }
    public var description: String { exact ? grouped(value) : "≥ \(grouped(value))" }
}

func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(d)
    }
    return out
}

/// Finds jobs by filter: keyset pages over the primary key, payload and error terms only inside
/// a bounded window, every query under a statement timeout. Read-only; the viewer role may run it.
public struct JobSearchStore: Sendable {
    public let connection: Connection
    public var clock: JobFilterSQL.Clock

    /// The most rows one statement of a window read reads (a payload or error search, or a count
    /// with such a term). Each chunk is its own short transaction, so the snapshot (and with it
    /// the database's oldest xmin) moves on between chunks. Why it matters: a claim walks its
    /// index from the head of the queue, where every job claimed since the last VACUUM still has
    /// an entry; while any older snapshot is open none can be marked dead, so each claim re-reads
    /// them all. At 10 M rows a whole-table search in one statement ran 30-50 s and a claim read
    /// 7,717 buffers instead of ~300 (docs/BENCHMARKS.md, "Job explorer"). 100,000 rows is ~0.3-0.5 s
    /// a chunk there: short enough for the head to be cleaned up between chunks, long enough
    /// that the per-chunk round trips and index descents cost nothing measurable.
    public static let windowChunk = 100_000

    /// `windowChunk`, smaller only in tests (a chunk of 3 exercises every chunk boundary).
    var chunkRows = JobSearchStore.windowChunk
    /// Tests only: called after each chunk of a window read with how many rows it read, while
    /// no transaction of the search is open.
    var afterChunk: (@Sendable (Int) throws -> Void)?

    public init(connection: Connection, clock: JobFilterSQL.Clock = .init()) {
        self.connection = connection
        self.clock = clock
    }

    static let columns = """
        j.id, j.queue, j.job_type, \(JobFilterSQL.stateExpression) AS state, j.priority, j.tenant, j.dedup_key, \
        j.attempt_count, j.max_attempts, j.created_at, j.run_at, j.started_at, j.heartbeat_at, j.completed_at, \
        j.locked_by, j.cancel_reason, j.error_type, left(j.error_message, 500) AS error_message
        """

    public func search(_ request: JobSearchRequest) throws -> JobSearchPage {
        guard (1...10_000).contains(request.limit) else {
            throw QueueStoreError.invalidInput("limit must be between 1 and 10000, got \(request.limit)")
        }
        guard (1...10_000_000).contains(request.window) else {
            throw QueueStoreError.invalidInput("window must be between 1 and 10000000, got \(request.window)")
        }
        let indexed = request.filter.terms.filter(JobFilterSQL.isIndexed)
        let bounded = request.filter.terms.filter { !JobFilterSQL.isIndexed($0) }
        guard !bounded.isEmpty else {
            // Only indexed terms: one statement that reads about as many rows as the page shows.
            return try timed(request.timeout, snapshot: true) { conn in
                var jobs = try pageRows(indexed, [], request: request, sourceLimit: request.limit + 1,
                                        want: request.limit + 1, conn)
                let more = jobs.count > request.limit
                if more { jobs.removeLast() }
                return JobSearchPage(jobs: jobs, next: more ? jobs.last?.id : nil, window: nil)
            }
        }
        return try searchWindow(indexed, bounded, request: request)
    }

    /// A payload or error search: the window read in chunks of at most `chunkRows` rows, each
    /// chunk its own short transaction (see `windowChunk`), until the page is full or the window
    /// is used up. The same jobs, in the same order, as one read of the whole window.
    private func searchWindow(_ indexed: [FilterTerm], _ bounded: [FilterTerm],
                              request: JobSearchRequest) throws -> JobSearchPage {
        let deadline = try Deadline(seconds: request.timeout)
        var jobs: [JobSummary] = []
        var read = 0
        var chunk = request
        while true {
            let size = min(chunkRows, request.window - read)
            // One snapshot per chunk: the rows, and (when they did not fill the page) how far
            // the chunk reached, must agree, or a row could fall between two chunks.
            let (found, extent) = try timed(try deadline.remaining(), snapshot: true, deadline: deadline) { conn in
                let found = try pageRows(indexed, bounded, request: chunk, sourceLimit: size,
                                         want: request.limit + 1 - jobs.count, conn)
                if jobs.count + found.count > request.limit { return (found, (0, UUID?.none)) }
                return (found, try windowExtent(indexed, request: chunk, limit: size, conn))
            }
            jobs += found
            if jobs.count > request.limit {
                // The page filled before the window ended: the next page starts after its last job.
                jobs.removeLast()
                return JobSearchPage(jobs: jobs, next: jobs.last?.id, window: nil)
            }
            let (chunkRead, edge) = extent
            read += chunkRead
            try afterChunk?(chunkRead)
            let exhausted = chunkRead < size
            if exhausted || read >= request.window {
                // The window ran out first: say how far it reached, and continue from its end.
                let truncated = !exhausted
                return JobSearchPage(jobs: jobs, next: truncated ? edge : nil,
                                     window: WindowScan(rowsRead: read, limit: request.window, truncated: truncated))
            }
            chunk.after = edge
        }
    }

    /// `SELECT … FROM (the indexed terms' first sourceLimit rows) WHERE bounded ORDER BY id LIMIT want`.
    private func pageRows(_ indexed: [FilterTerm], _ bounded: [FilterTerm], request: JobSearchRequest,
                          sourceLimit: Int, want: Int, _ conn: Connection) throws -> [JobSummary] {
        var q = Query.StringInterpolation(literalCapacity: 512, interpolationCount: 8)
        q.appendLiteral("SELECT \(Self.columns) FROM ")
        try JobSearchSource.append(indexed, sort: request.sort, limit: sourceLimit, clock: clock, conn: conn,
                                   appendScope: { appendScope($0, request: request, to: &$1) }, to: &q)
        q.appendLiteral(" WHERE ")
        JobFilterSQL.appendCondition(bounded, clock: clock, to: &q)
        q.appendLiteral(" ORDER BY j.id \(request.sort == .newestFirst ? "DESC" : "ASC") LIMIT ")
        q.appendInterpolation(want)
        return try conn.run(Query(stringInterpolation: q)).map(Self.decode)
    }

    /// How many rows a chunk of the window read and the id it ended at (only the indexed terms: cheap).
    private func windowExtent(_ indexed: [FilterTerm], request: JobSearchRequest, limit: Int,
                              _ conn: Connection) throws -> (Int, UUID?) {
        let desc = request.sort == .newestFirst
        var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 6)
        q.appendLiteral("SELECT count(*)::int AS n, \(desc ? "min" : "max")(j.id::text)::uuid AS edge FROM ")
        try JobSearchSource.append(indexed, sort: request.sort, limit: limit, clock: clock, conn: conn,
                                   appendScope: { appendScope($0, request: request, to: &$1) }, to: &q)
        guard let row = try conn.run(Query(stringInterpolation: q)).first else { return (0, nil) }
        return (try row.decode("n"), try row.decode("edge"))
    }

    /// The indexed terms plus the keyset position.
    private func appendScope(_ indexed: [FilterTerm], request: JobSearchRequest, to q: inout Query.StringInterpolation) {
        JobFilterSQL.appendCondition(indexed, clock: clock, to: &q)
        if let after = request.after {
            q.appendLiteral(request.sort == .newestFirst ? " AND j.id < " : " AND j.id > ")
            q.appendInterpolation(after)
            q.appendLiteral("::uuid")
        }
    }

    /// Counts matching jobs: exactly up to `cap`, beyond it "≥ cap". A filter with payload or
    /// error terms counts inside the window (newest `window` rows of the indexed terms); when the
    /// window is full the count is a lower bound.
    public func count(_ filter: JobFilter, cap: Int = 10_000, window: Int = JobSearchRequest.defaultWindow,
                      timeout: Double = 5) throws -> JobCount {
        guard (1...100_000_000).contains(cap) else {
            throw QueueStoreError.invalidInput("cap must be between 1 and 100000000, got \(cap)")
        }
        let indexed = filter.terms.filter(JobFilterSQL.isIndexed)
        let bounded = filter.terms.filter { !JobFilterSQL.isIndexed($0) }
        guard bounded.isEmpty else { return try countWindow(indexed, bounded, cap: cap, window: window, timeout: timeout) }
        return try timed(timeout, snapshot: true) { conn in
            // Through the search's own access path: a rare type has no index leading with it.
            var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 6)
            q.appendLiteral("SELECT count(*)::int AS hits FROM ")
            try JobSearchSource.append(indexed, sort: nil, limit: cap + 1, clock: clock, conn: conn,
                                       appendScope: { JobFilterSQL.appendCondition($0, clock: clock, to: &$1) }, to: &q)
            let hits: Int = try conn.run(Query(stringInterpolation: q)).first!.decode("hits")
            return JobCount(value: min(hits, cap), exact: hits <= cap)
        }
    }

    /// A count with payload or error terms: inside the window, chunk by chunk like a search's
    /// window read (`windowChunk`), stopping once past the cap or at the window's end.
    private func countWindow(_ indexed: [FilterTerm], _ bounded: [FilterTerm], cap: Int, window: Int,
                             timeout: Double) throws -> JobCount {
        let deadline = try Deadline(seconds: timeout)
        var hits = 0, read = 0
        var after: UUID?
        while true {
            let size = min(chunkRows, window - read)
            let (chunkHits, chunkRead, edge) = try timed(try deadline.remaining(), snapshot: true, deadline: deadline) { conn -> (Int, Int, UUID?) in
                var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 6)
                q.appendLiteral("SELECT (count(*) FILTER (WHERE ")
                JobFilterSQL.appendCondition(bounded, clock: clock, to: &q)
                q.appendLiteral("))::int AS hits, count(*)::int AS read, min(j.id::text)::uuid AS edge FROM ")
                try JobSearchSource.append(indexed, sort: .newestFirst, limit: size, clock: clock, conn: conn, appendScope: { terms, q in
                    JobFilterSQL.appendCondition(terms, clock: clock, to: &q)
                    if let after {
                        q.appendLiteral(" AND j.id < "); q.appendInterpolation(after); q.appendLiteral("::uuid")
                    }
                }, to: &q)
                let row = try conn.run(Query(stringInterpolation: q)).first!
                return (try row.decode("hits"), try row.decode("read"), try row.decode("edge"))
            }
            hits += chunkHits
            read += chunkRead
            try afterChunk?(chunkRead)
            if hits > cap { return JobCount(value: cap, exact: false) }
            if chunkRead < size { return JobCount(value: hits, exact: true) }
            if read >= window { return JobCount(value: hits, exact: false) }
            after = edge
        }
    }

    /// Runs `body` in a transaction with a statement timeout, so no search runs unbounded; a
    /// timeout becomes an error that says what to do. `snapshot`: a read-only REPEATABLE READ
    /// transaction, for a read in several statements (JobSearchSource's loose scan, then its rows).
    /// `deadline`: the chunked read this statement belongs to, whose whole time limit a timeout
    /// reports (not the remainder `seconds` is).
    func timed<T>(_ seconds: Double, snapshot: Bool = false, deadline: Deadline? = nil,
                  _ body: (Connection) throws -> T) throws -> T {
        guard seconds > 0, seconds <= 3600 else {
            throw QueueStoreError.invalidInput("timeout must be between 0 and 3600 seconds, got \(seconds)")
        }
        do {
            let run = { (tx: Connection) throws -> T in
                try tx.setLocalStatementTimeout(seconds)
                // No JIT: a search reads a few hundred rows, but a loose scan's branches are
                // estimated (pessimistically) above jit_above_cost, and compiling them took
                // 10-300 ms of a first page that otherwise reads in a few.
                try tx.execute("SELECT set_config('jit', 'off', true)")
                return try body(tx)
            }
            return try snapshot ? connection.snapshotTransaction(run) : connection.transaction(run)
        } catch let error as PostgresError where error.sqlState == "57014" {
            throw Self.tookTooLong(deadline?.seconds ?? seconds)
        } catch let error as PostgresError where !error.isConnectionProblem && !error.meansSchemaMoved {
            throw QueueStoreError.from(error)
        }
    }

    static func tookTooLong(_ seconds: Double) -> QueueStoreError {
        .invalidInput("the search took longer than \(seconds) s and was stopped; narrow it with queue:, state:, type: or since:")
    }

    /// The whole of a chunked read's time limit: each chunk's statements get what is left of it
    /// as their statement timeout, so the chunks together never run longer than one statement could.
    struct Deadline {
        let seconds: Double
        let end: Date

        init(seconds: Double) throws {
            guard seconds > 0, seconds <= 3600 else {
                throw QueueStoreError.invalidInput("timeout must be between 0 and 3600 seconds, got \(seconds)")
            }
            self.seconds = seconds
            end = Date().addingTimeInterval(seconds)
        }

        /// The time left, or the timeout's own error once under a millisecond is (a statement
        /// timeout of 0 would mean none at all).
        func remaining() throws -> Double {
            let left = end.timeIntervalSinceNow
            guard left >= 0.001 else { throw JobSearchStore.tookTooLong(seconds) }
            return left
        }
    }

    static func decode(_ row: Row) throws -> JobSummary {
        let stateText: String = try row.decode("state")
        guard let state = JobState(rawValue: stateText) else {
            throw QueueStoreError.database("unknown job state \(stateText.debugDescription)")
        }
        return JobSummary(
            id: try row.decode("id"), queue: try row.decode("queue"), jobType: try row.decode("job_type"), state: state,
            priority: try row.decode("priority"), tenant: try row.decode("tenant"), dedupKey: try row.decode("dedup_key"),
            attemptCount: try row.decode("attempt_count"), maxAttempts: try row.decode("max_attempts"),
            createdAt: try row.decode("created_at"), runAt: try row.decode("run_at"), startedAt: try row.decode("started_at"),
            heartbeatAt: try row.decode("heartbeat_at"), completedAt: try row.decode("completed_at"),
            lockedBy: try row.decode("locked_by"), cancelReason: try row.decode("cancel_reason"),
            errorType: try row.decode("error_type"), errorMessage: try row.decode("error_message"))
    }
}
