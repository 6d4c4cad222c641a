import Foundation
import JobFilter
import Postgres

/// Compiles a `JobFilter` into a SQL condition over `job_queue j`. Every value the user typed
/// becomes a bind parameter; the only SQL text is the fixed fragments below.
///
/// Terms split in two: the ones an index or a cheap column comparison answers ("indexed":
/// queue, type, state, tenant, key, worker, age, since, an id or a prefix or suffix of one) and the
/// ones that must read every row they look at (`error:`, `payload…`). A search runs the second kind
/// only over a bounded window of the rows the first kind selects (JobSearchStore).
public enum JobFilterSQL {
    /// What `since:14:00` and local dates mean: the operator's clock and time zone.
    public struct Clock: Sendable {
        public var now: Date
        public var timeZone: TimeZone
        public init(now: Date = Date(), timeZone: TimeZone = .current) {
            self.now = now
            self.timeZone = timeZone
        }
    }

    /// True when a search may apply the term to every row it reaches: it reads only columns and
    /// an index can narrow it. False for terms that read payloads or error text.
    public static func isIndexed(_ term: FilterTerm) -> Bool {
        switch term.predicate {
        case .error, .payloadEquals, .payloadHas: false
        default: true
        }
    }

    /// Appends `(cond AND cond …)` for `terms` (or `true` when there are none).
    static func appendCondition(_ terms: [FilterTerm], clock: Clock, to q: inout Query.StringInterpolation) {
        guard !terms.isEmpty else { q.appendLiteral("true"); return }
        q.appendLiteral("(")
        for (n, term) in terms.enumerated() {
            if n > 0 { q.appendLiteral(" AND ") }
            // IS NOT TRUE: -tenant:shop-9 keeps the jobs with no tenant at all.
            if term.negated { q.appendLiteral("(") }
            appendPredicate(term.predicate, clock: clock, to: &q)
            if term.negated { q.appendLiteral(") IS NOT TRUE") }
        }
        q.appendLiteral(")")
    }

    /// The state names of the jobs screen, as SQL over `j`.
    static let stateExpression = """
        CASE j.status WHEN 'processing' THEN 'running' WHEN 'completed' THEN 'completed' \
        WHEN 'cancelled' THEN 'cancelled' WHEN 'pending' THEN \
        CASE WHEN j.run_at <= now() THEN 'pending' \
        WHEN j.attempt_count > 0 THEN 'retrying' ELSE 'scheduled' END ELSE 'dead' END
        """

    private static func appendPredicate(_ p: FilterPredicate, clock: Clock, to q: inout Query.StringInterpolation) {
        switch p {
        case .queue(let v): q.appendLiteral("j.queue = "); q.appendInterpolation(v)
        case .type(let v): q.appendLiteral("j.job_type = "); q.appendInterpolation(v)
        case .tenant(let v): q.appendLiteral("j.tenant = "); q.appendInterpolation(v)
        case .key(let v): q.appendLiteral("j.dedup_key = "); q.appendInterpolation(v)
        case .state(let s): q.appendLiteral(stateCondition(s))
        case .error(let v):
            // strpos, not LIKE: a % or _ the operator types is just a character.
            q.appendLiteral("(strpos(lower(j.error_message), lower(")
            q.appendInterpolation(v)
            q.appendLiteral("::text)) > 0 OR strpos(lower(j.error_type), lower(")
            q.appendInterpolation(v)
            q.appendLiteral("::text)) > 0)")
        case .worker(let v):
            // `locked_by IS NOT NULL` says nothing new (both arms need a worker) but lets the
            // planner prove the partial job_queue_running_id_idx (0027) covers the term.
            q.appendLiteral("(j.locked_by IS NOT NULL AND (j.locked_by = ")
            q.appendInterpolation(v)
            q.appendLiteral(" OR j.locked_by IN (SELECT w.id FROM ")
            q.appendInterpolation(qt: "workers")
            q.appendLiteral(" w WHERE w.host = ")
            q.appendInterpolation(v)
            q.appendLiteral(")))")
        case .age, .since:
            guard let time = createdTime(p, clock: clock) else { preconditionFailure("age and since are time terms") }
            q.appendLiteral("j.created_at \(time.op) ")
            time.appendT(&q)
        case .id(let hex):
            if hex.count == 32, let uuid = UUID(uuidString: dashed(hex)) {
                q.appendLiteral("j.id = ")
                q.appendInterpolation(uuid)
                q.appendLiteral("::uuid")
            } else {
                // A prefix (a range of the primary key) or a suffix (job_ids_ending: a range
                // of job_queue_ids, 0028), as find_job_ids and `:job` read a part.
                let (low, high) = prefixRange(hex)
                q.appendLiteral("(j.id BETWEEN ")
                q.appendInterpolation(low)
                q.appendLiteral("::uuid AND ")
                q.appendInterpolation(high)
                q.appendLiteral("::uuid OR (true")
                appendSuffix(hex, to: &q)
                q.appendLiteral("))")
            }
        case .payloadEquals(let path, let value):
            q.appendLiteral("j.payload #>> ")
            q.appendInterpolation(path)
            q.appendLiteral("::text[] = ")
            q.appendInterpolation(value)
            q.appendLiteral("::text")
        case .payloadHas(let path):
            q.appendLiteral("j.payload #> ")
            q.appendInterpolation(path)
            q.appendLiteral("::text[] IS NOT NULL")
        }
    }

    /// A time term as `created_at <op> T`: the operator, T's SQL, and which side of T it keeps
    /// (what JobCreatedTime turns into a primary-key range). Nil for any other term.
    static func createdTime(_ p: FilterPredicate, clock: Clock) -> FilterTermTime? {
        switch p {
        case .age(let comparison, let seconds):
            // age>30m: created before now - 30m. The server's clock, like everything it stores.
            let (op, side): (String, JobCreatedTime.Side) = switch comparison {
            case .greater: ("<", .before)
            case .greaterOrEqual: ("<=", .before)
            case .less: (">", .after)
            case .lessOrEqual: (">=", .after)
            }
            return FilterTermTime(side: side, op: op) { q in
                q.appendLiteral("(now() - make_interval(secs => ")
                q.appendInterpolation(seconds)
                q.appendLiteral("))")
            }
        case .since(let time):
            let at = resolve(time, clock: clock)
            return FilterTermTime(side: .after, op: ">=") { q in
                q.appendInterpolation(at)
                q.appendLiteral("::timestamptz")
            }
        default:
            return nil
        }
    }

    /// pending/scheduled/retrying are one status told apart by due time and failed attempts
    /// (a retry sets run_at = next_retry_at = failure time + backoff). Due means what the claim
    /// means by it: `run_at <= now()` (claim_jobs, 20_jobs.sql).
    static func stateCondition(_ s: JobState) -> String {
        switch s {
        case .pending: "(j.status = 'pending' AND j.run_at <= now())"
        case .scheduled: "(j.status = 'pending' AND j.run_at > now() AND j.attempt_count = 0)"
        case .retrying: "(j.status = 'pending' AND j.run_at > now() AND j.attempt_count > 0)"
        case .running: "j.status = 'processing'"
        case .completed: "j.status = 'completed'"
        case .cancelled: "j.status = 'cancelled'"
        case .dead: "j.status IN ('dead_letter', 'failed')"
        }
    }

    /// `since:14:00` is the most recent 14:00 on the operator's clock (yesterday's when it is
    /// 09:00 now); a date without an offset is in the operator's time zone.
    public static func resolve(_ time: SinceTime, clock: Clock) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = clock.timeZone
        switch time {
        case .clock(let h, let m, let s):
            var day = calendar.dateComponents([.year, .month, .day], from: clock.now)
            day.hour = h; day.minute = m; day.second = s
            let today = calendar.date(from: day) ?? clock.now
            return today <= clock.now ? today : calendar.date(byAdding: .day, value: -1, to: today) ?? today
        case .instant(let y, let mo, let d, let h, let mi, let s, let offset):
            if let offset { calendar.timeZone = TimeZone(secondsFromGMT: offset * 60) ?? clock.timeZone }
            return calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)) ?? clock.now
        }
    }

    /// The smallest and largest id that start with `hex` (1 to 31 hex digits).
    static func prefixRange(_ hex: String) -> (UUID, UUID) {
        let pad = 32 - hex.count
        let low = UUID(uuidString: dashed(hex + String(repeating: "0", count: pad)))!
        let high = UUID(uuidString: dashed(hex + String(repeating: "f", count: pad)))!
        return (low, high)
    }

    /// ` AND <the id ends with hex>`: the ids job_ids_ending finds in job_queue_ids (0028, one
    /// range of its key for the last 12 digits, the whole suffix checked), as an array the
    /// primary key is probed with. A scalar subquery, so it runs once per statement (an
    /// InitPlan): an index condition inside an OR (a BitmapOr with the prefix range), and under
    /// `-id:` a per-row filter against that one array, never a lookup per row.
    static func appendSuffix(_ hex: String, to q: inout Query.StringInterpolation) {
        q.appendLiteral(" AND j.id = ANY((SELECT ")
        q.appendInterpolation(qt: "job_ids_ending")
        q.appendLiteral("(")
        q.appendInterpolation(hex)
        q.appendLiteral("::text))::uuid[])")
    }

    private static func dashed(_ hex: String) -> String {
        let c = Array(hex)
        return [c[0..<8], c[8..<12], c[12..<16], c[16..<20], c[20..<32]].map { String($0) }.joined(separator: "-")
    }
}
