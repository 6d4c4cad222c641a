import Foundation
import JobFilter
import Postgres

/// Where a search reads its rows: the jobs its indexed terms select, newest (or oldest) first,
/// at most `limit` of them, through an access path that yields them in id order, so a first
/// page reads about as many rows as it shows.
///
/// Why not always `WHERE terms ORDER BY id LIMIT n`: for a term whose rows are rare among the
/// newest jobs (a small queue, a rare type, running jobs while the newest million are pending)
/// the planner walks the primary key and reads every newer row that does not match (1-2 s at
/// 10 M rows; docs/JOBS.md "How a search stays cheap"). Migration 0027's (queue, job_type, id)
/// answers `queue:X type:Y` as one range; for `queue:X` alone or `type:Y` alone this reads the
/// newest `limit` rows of each (queue, type) pair and sorts those by id (UNION ALL under one
/// ORDER BY … LIMIT; `append` says why a branch is shaped as it is). The pairs come from a loose
/// scan of that same index (a recursive CTE, one index descent per distinct value), never from a catalogue that
/// could be incomplete, in the same snapshot as the read (a REPEATABLE READ transaction), so no
/// queue or type is missed. A part of an id is a range of the primary key (a prefix) plus a
/// probe of it with the ids job_queue_ids (0028) gives for a suffix. A time term is primary-key
/// ranges plus two small partial indexes (JobCreatedTime), `state:scheduled` a partial index plus
/// those ranges (0031); with `queue:`/`type:` the pairs' id ranges of T's side. `state:pending`
/// and `state:retrying` are 0033's ready index plus, per kind, a counted range or an id walk
/// (JobSearchDue). Everything else is one branch; the planner picks among the partial
/// indexes (tenant, key, running, dead, cancelled, completed).
enum JobSearchSource {
    /// How many distinct queues (or types of a queue) a loose scan merges at most; beyond that
    /// the one-branch read is cheaper to plan than hundreds of branches.
    static let maxBranches = 64
    static let pairIndex = "job_queue_queue_type_id_idx"

    /// Which branches a search reads (each a UNION ALL member with its own condition).
    enum Split: Equatable {
        case plain
        /// Each type of this queue.
        case typesOf(queue: String)
        /// Each queue, this type.
        case queuesOf(type: String)
        /// One queue and type: one range of the pair index.
        case pair(queue: String, type: String)
        /// An id prefix range and the ids ending in the suffix (job_ids_ending, job_queue_ids).
        case idPart(String)
        /// A created_at filter (`age`, `since`): primary-key ranges plus 0031's late and drift
        /// indexes, for the jobs whose created_at is far from their id's time (JobCreatedTime).
        case time(FilterPredicate)
        /// `state:pending` or `state:retrying`: 0033's ready and deferred indexes (JobSearchDue).
        case due(JobSearchDue.Want)
        /// Scheduled jobs: job_queue_scheduled_id_idx (never attempted, run_at later than
        /// created_at) plus the few scheduled jobs it cannot hold (created in the future).
        case scheduled
    }

    /// Which split the indexed terms call for. A term with an index of its own that selects few
    /// rows (a tenant, a key, a whole id, running/dead/cancelled, a worker) is left to the
    /// planner; a loose scan would only walk each pair's rows past it.
    static func split(for indexed: [FilterTerm]) -> Split {
        let positive = indexed.filter { !$0.negated }.map(\.predicate)
        for p in positive { if case .id(let hex) = p, hex.count < 32 { return .idPart(hex) } }
        var queue: String?, type: String?, selective = false
        for p in positive {
            switch p {
            case .queue(let v): queue = queue ?? v
            case .type(let v): type = type ?? v
            case .tenant, .key, .id, .worker: selective = true
            case .state(let s): if [.running, .dead, .cancelled].contains(s) { selective = true }
            default: break
            }
        }
        if selective { return .plain }
        // Waiting retries are few in a queue that keeps up: their counted range (or, when over
        // JobSearchDue.smallSide, the retrying index: what the planner read before 0033) beats
        // walking a pair's jobs for them.
        if positive.contains(.state(.retrying)) { return .due(.waitingRetries) }
        switch (queue, type) {
        case (let q?, nil): return .typesOf(queue: q)
        case (nil, let t?): return .queuesOf(type: t)
        case (let q?, let t?): return .pair(queue: q, type: t)
        default: break
        }
        if let time = timeTerm(indexed) { return .time(time) }
        if positive.contains(.state(.pending)) { return .due(.due) }
        if positive.contains(.state(.scheduled)) { return .scheduled }
        return .plain
    }

    /// Appends `(SELECT * FROM (branches) u ORDER BY u.id … LIMIT limit) j`: the rows of
    /// job_queue matching the indexed terms (and keyset position: `appendScope` appends both for
    /// the terms it is given), in the request's order. Runs the loose scan first when the split
    /// needs one (on `conn`, inside the caller's snapshot transaction).
    ///
    /// A branch reads one (queue, type) pair `WHERE queue = $q AND job_type >= $t AND job_type
    /// <= $t ORDER BY job_type, id`: the type as a range, not an equality. With an equality the
    /// planner drops both constant columns from the order, sees that the primary key gives id
    /// order too, and prefers walking it for a common pair (it cannot know the newest rows are
    /// other queues' — the 1-2 s walks this replaces). As a range only the pair index yields that
    /// order; the queue stays an equality so the range still positions the index scan (a range
    /// on the first column would read the whole queue). Each branch reads at most `limit` index
    /// entries; the branches are then sorted by id (pairs × limit rows).
    ///
    /// `sort` nil: any `limit` of them, unordered (a capped count needs no order, and sorting
    /// pairs × a million rows for one would be most of its cost).
    static func append(_ indexed: [FilterTerm], sort: JobSort?, limit: Int, clock: JobFilterSQL.Clock, conn: Connection,
                       appendScope: ([FilterTerm], inout Query.StringInterpolation) -> Void,
                       to q: inout Query.StringInterpolation) throws {
        let dir = sort == .oldestFirst ? "ASC" : "DESC"
        var branches: [Branch] = []
        var scope = indexed
        func pair(_ queue: String, _ type: String) -> Branch {
            Branch(order: .typeThenId) { q in
                q.appendLiteral(" AND j.queue = "); q.appendInterpolation(queue)
                q.appendLiteral("::text AND j.job_type >= "); q.appendInterpolation(type)
                q.appendLiteral("::text AND j.job_type <= "); q.appendInterpolation(type); q.appendLiteral("::text")
            }
        }
        let split = split(for: indexed)
        switch split {
        case .plain:
            branches = [Branch { _ in }]
        case .typesOf(let queue):
            if let types = try looseScan(typesOf: queue, conn) {
                scope = without(indexed) { if case .queue(queue) = $0 { true } else { false } }
                branches = types.map { pair(queue, $0) }
            } else {
                branches = [Branch { _ in }]
            }
        case .queuesOf(let type):
            if let queues = try looseScan(typesOf: nil, conn) {
                scope = without(indexed) { if case .type(type) = $0 { true } else { false } }
                branches = queues.map { pair($0, type) }
            } else {
                branches = [Branch { _ in }]
            }
        case .pair(let queue, let type):
            if try pairIndexUsable(conn) {
                scope = without(without(indexed) { if case .queue(queue) = $0 { true } else { false } }) {
                    if case .type(type) = $0 { true } else { false }
                }
                branches = [pair(queue, type)]
            } else {
                branches = [Branch { _ in }]
            }
        case .time(let term):
            guard let time = JobFilterSQL.createdTime(term, clock: clock) else { preconditionFailure("a time split has a time term") }
            branches = JobCreatedTime.branches(time.side, time.appendT).map { Branch(condition: $0) }
        case .due(let want):
            if let due = try JobSearchDue.branches(want, conn) {
                branches = due.map { b in Branch(order: b.readWhole ? .readWholeThenId : .id) { $0.appendLiteral(b.condition) } }
            } else {
                branches = [Branch { _ in }]
            }
        case .scheduled:
            // The index's rows: run_at later than created_at (the predicate, spelled out so the
            // planner sees the index covers the branch). A scheduled job outside it has
            // created_at >= run_at > now(): created in the future, so it is in the time
            // ranges of `created_at > now()` (usually no job at all).
            branches = [
                Branch { q in q.appendLiteral(" AND j.status = 'pending' AND j.attempt_count = 0 AND j.run_at > j.created_at") },
            ] + JobCreatedTime.branches(.after, { $0.appendLiteral("now()") }).enumerated().map { n, branch in
                // The drift branch read whole (OFFSET 0): as an id-ordered walk the planner
                // took 0033's ready index, which holds every job with run_at <= created_at,
                // and walked all of it to find the few drift ones (1.8 s at 10 M rows).
                // `IS NOT TRUE` (both columns are NOT NULL: the same as <=) so the planner cannot
                // prove the ready index's predicate either and walk that index.
                Branch(order: n == 1 ? .readWholeThenId : .id) { q in
                    q.appendLiteral(" AND (j.run_at > j.created_at) IS NOT TRUE")
                    branch(&q)
                }
            }
        case .idPart(let hex):
            let (low, high) = JobFilterSQL.prefixRange(hex)
            branches = [
                Branch { q in
                    q.appendLiteral(" AND j.id BETWEEN "); q.appendInterpolation(low)
                    q.appendLiteral("::uuid AND "); q.appendInterpolation(high); q.appendLiteral("::uuid")
                },
                Branch { q in
                    JobFilterSQL.appendSuffix(hex, to: &q)
                    q.appendLiteral(" AND j.id NOT BETWEEN "); q.appendInterpolation(low)
                    q.appendLiteral("::uuid AND "); q.appendInterpolation(high); q.appendLiteral("::uuid")
                },
            ]
        }
        // A time term with queue:/type: (`queue:emails age>1h`): each pair reads only its id
        // range of T's side (job_queue_queue_type_id_idx positioned on (queue, type, id bound),
        // not a walk through the pair's jobs of the last hour), and the drift jobs (a small
        // partial index, read whole) once, with the whole scope.
        if branches.contains(where: { $0.order == .typeThenId }),
           let term = timeTerm(indexed), let time = JobFilterSQL.createdTime(term, clock: clock) {
            let range = try JobCreatedTime.range(time.side, time.appendT, conn: conn)
            // The planner multiplies the pair's share by the id range's as if independent, and a
            // big pair's jobs are all recent (300,000 of 11.5 M rows, all since 00:00): it
            // expects ~10 rows and reads the whole range by bitmap to sort it (1.2 s). No bitmap
            // scans in this search's transaction (SET LOCAL: only this read), so each pair walks
            // its index in order and stops at the page.
            _ = try conn.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
            branches = branches.map { pairBranch in
                Branch(order: .typeThenId) { q in
                    pairBranch.condition(&q)
                    range(&q)
                }
            } + [Branch(order: .readWholeThenId, wholeScope: true) { $0.appendLiteral(" AND \(JobCreatedTime.drift())") }]
        }
        q.appendLiteral("(SELECT * FROM (")
        if branches.isEmpty {
            // The queue has no jobs at all (or the table none): nothing to read.
            q.appendLiteral("SELECT * FROM ")
            q.appendInterpolation(qt: "job_queue")
            q.appendLiteral(" j WHERE false")
        }
        for (n, branch) in branches.enumerated() {
            if n > 0 { q.appendLiteral(" UNION ALL ") }
            // A range read whole: OFFSET 0 keeps the planner from pulling the ORDER BY into it,
            // so it reads the range's index and sorts (at most JobSearchDue.smallSide rows)
            // instead of walking an id-ordered index past the rows it does not want.
            q.appendLiteral(branch.order == .readWholeThenId ? "(SELECT * FROM (SELECT * FROM " : "(SELECT * FROM ")
            q.appendInterpolation(qt: "job_queue")
            q.appendLiteral(" j WHERE ")
            appendScope(branch.wholeScope ? indexed : scope, &q)
            branch.condition(&q)
            if branch.order == .readWholeThenId { q.appendLiteral(" OFFSET 0) j") }
            if sort != nil {
                q.appendLiteral(branch.order == .typeThenId ? " ORDER BY j.job_type \(dir), j.id \(dir)" : " ORDER BY j.id \(dir)")
            }
            q.appendLiteral(" LIMIT ")
            q.appendInterpolation(limit)
            q.appendLiteral(")")
        }
        q.appendLiteral(sort == nil ? ") u LIMIT " : ") u ORDER BY u.id \(dir) LIMIT ")
        q.appendInterpolation(limit)
        q.appendLiteral(") j")
    }

    /// One UNION ALL member: its own condition after the scope, and the order it yields rows in.
    struct Branch {
        enum Order { case id, typeThenId, readWholeThenId }
        var order: Order = .id
        /// True: the whole scope (every indexed term), not the split's (a pair's branches leave
        /// out the queue and type their condition holds).
        var wholeScope = false
        let condition: (inout Query.StringInterpolation) -> Void
    }

    /// The first positive time term (`age`, `since`) of `indexed`.
    static func timeTerm(_ indexed: [FilterTerm]) -> FilterPredicate? {
        indexed.first { term in
            guard !term.negated else { return false }
            if case .age = term.predicate { return true }
            if case .since = term.predicate { return true }
            return false
        }?.predicate
    }

    /// `terms` without the first positive term `matches` selects (the one a split turned into
    /// its branches' own condition).
    private static func without(_ terms: [FilterTerm], _ matches: (FilterPredicate) -> Bool) -> [FilterTerm] {
        guard let i = terms.firstIndex(where: { !$0.negated && matches($0.predicate) }) else { return terms }
        var rest = terms
        rest.remove(at: i)
        return rest
    }

    /// Whether job_queue_queue_type_id_idx is there and valid (`migrate` may not have built it yet).
    static func pairIndexUsable(_ conn: Connection) throws -> Bool {
        try indexesUsable([pairIndex], conn)
    }

    /// Whether every index of `names` is on job_queue and valid (an empty table: false).
    static func indexesUsable(_ names: [String], _ conn: Connection) throws -> Bool {
        let valid: Int = try conn.run("""
            SELECT count(*) FILTER (WHERE i.indisvalid AND i.indisready)::int FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = (SELECT j.tableoid FROM \(qt: "job_queue") j LIMIT 1) AND c.relname = ANY(\(names)::text[])
            """).scalar()
        return valid == names.count
    }

    /// The distinct job types of `queue` (or, with nil, the distinct queues), by a loose scan of
    /// job_queue_queue_type_id_idx. Nil when that index is missing or not yet valid (a loose
    /// scan without it reads the table once per value) or when there are more than
    /// `maxBranches` values: the caller then reads one plain branch. (An empty table has no
    /// tableoid to find the index by: nil, and the plain read finds nothing at once.)
    static func looseScan(typesOf queue: String?, _ conn: Connection) throws -> [String]? {
        guard try pairIndexUsable(conn) else { return nil }
        let rows: [String]
        if let queue {
            rows = try conn.run("""
                WITH RECURSIVE t(v) AS (
                  SELECT min(j.job_type) FROM \(qt: "job_queue") j WHERE j.queue = \(queue)
                  UNION ALL
                  SELECT (SELECT min(j.job_type) FROM \(qt: "job_queue") j WHERE j.queue = \(queue) AND j.job_type > t.v)
                  FROM t WHERE t.v IS NOT NULL)
                SELECT t.v FROM t WHERE t.v IS NOT NULL LIMIT \(maxBranches + 1)
                """).map { try $0.decode("v") }
        } else {
            rows = try conn.run("""
                WITH RECURSIVE t(v) AS (
                  SELECT min(j.queue) FROM \(qt: "job_queue") j
                  UNION ALL
                  SELECT (SELECT min(j.queue) FROM \(qt: "job_queue") j WHERE j.queue > t.v)
                  FROM t WHERE t.v IS NOT NULL)
                SELECT t.v FROM t WHERE t.v IS NOT NULL LIMIT \(maxBranches + 1)
                """).map { try $0.decode("v") }
        }
        return rows.count > maxBranches ? nil : rows
    }
}
