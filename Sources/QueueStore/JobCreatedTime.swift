import Foundation
import Postgres

/// A filter on created_at (`age>2h`, `since:14:00`) as primary-key ranges, exactly.
///
/// Ids are UUIDv7: the first 48 bits are the milliseconds of the clock when uuid_v7() drew the
/// id, and created_at is the enqueue transaction's start (now()), never later than that clock.
/// So for a job enqueued the usual way δ = created_at − the id's time is at most 1 ms (rounding)
/// and at least minus the time its enqueue transaction had run. Three kinds of job, by δ:
///
/// - δ in [−1 s, 1 ms] (nearly every job): created before T means an id time before T + 1 s,
///   created at or after T an id time from T − 1 ms on. A primary-key range, newest or oldest
///   first, instead of a walk through every job of the last hours.
/// - δ in [−1 min, −1 s] ("late": jobs of an enqueue transaction that ran over a second before
///   drawing their id, a 300,000-job INSERT say): on the "after T" side the same range holds
///   them; on the "before T" side their ids reach up to T + 1 min, so they are read from migration
///   0031's partial index job_queue_time_late_id_idx, only its ids between T + 1 s and T + 1 min.
/// - δ outside [−1 min, 1 ms] ("drift": created_at set by hand or by an import, an id not drawn by
///   uuid_v7(), a transaction that ran over a minute): 0031's partial index
///   job_queue_time_drift_id_idx, read whole (filtered by created_at).
///
/// Each branch is exact on its own kind, so the rows are exactly those plain SQL over created_at
/// returns. An ordinary enqueue adds no entry to either index. The tolerances trade a few reads
/// against index entries: the "before" range reads, and drops, the jobs created in the second
/// after T; a shorter second would put more jobs of ordinary batch enqueues in the late index.
enum JobCreatedTime {
    /// δ = created_at − the id's time, over `table` (nil: bare columns, as in an index
    /// definition). Only immutable built-ins, as an index predicate needs: the id's milliseconds
    /// from its first 6 bytes (extract(epoch FROM timestamptz) is not immutable). Every insert
    /// and every non-HOT update evaluates it twice (two index predicates): ~0.6 µs a row, where
    /// the same through the id's text took ~2.3 µs. A query must spell a predicate as the index
    /// does for the planner to use the index.
    private static func delta(_ table: String?) -> String {
        let p = table.map { $0 + "." } ?? ""
        return "(\(p)created_at - to_timestamp(('x' || encode(substring(uuid_send(\(p)id) from 1 for 6), 'hex'))::bit(48)::bigint / 1000.0::float8))"
    }

    /// The predicate of job_queue_time_drift_id_idx.
    static func drift(table: String? = "j") -> String {
        delta(table) + " NOT BETWEEN interval '-1 minute' AND interval '1 ms'"
    }

    /// The predicate of job_queue_time_late_id_idx.
    static func late(table: String? = "j") -> String {
        delta(table) + " BETWEEN interval '-1 minute' AND interval '-1 s'"
    }

    /// Which side of T the filter keeps.
    enum Side {
        /// created_at < T or <= T (`age>`, `age>=`).
        case before
        /// created_at > T or >= T (`since:`, `age<`, `age<=`).
        case after
    }

    /// The branches (each an ` AND …` condition) that together hold every job on `side` of T,
    /// each job in exactly one; the search's own terms then check created_at itself.
    static func branches(_ side: Side, _ t: @escaping (inout Query.StringInterpolation) -> Void)
        -> [(inout Query.StringInterpolation) -> Void] {
        switch side {
        case .after:
            return [
                { q in
                    q.appendLiteral(" AND NOT \(drift())")
                    appendIdBound(">=", t, offsetMs: -2, to: &q)
                },
                { q in q.appendLiteral(" AND \(drift())") },
            ]
        case .before:
            return [
                { q in
                    q.appendLiteral(" AND NOT \(drift())")
                    appendIdBound("<=", t, offsetMs: 1_001, to: &q)
                },
                { q in
                    q.appendLiteral(" AND \(late())")
                    appendIdBound(">", t, offsetMs: 1_001, to: &q)
                    appendIdBound("<=", t, offsetMs: 60_001, to: &q)
                },
                { q in q.appendLiteral(" AND \(drift())") },
            ]
        }
    }

    /// ` AND j.id <op> <id bound>`: the last id of T + offsetMs's millisecond for `<=` and `>`
    /// (every id of that millisecond is at or below it), the first for `>=`. `t` appends T as a
    /// timestamptz expression; T in whole milliseconds is clamped to what 48 bits hold (and a
    /// little beyond, so the cast never overflows whatever T is: ±infinity, year 200000).
    static func appendIdBound(_ op: String, _ t: (inout Query.StringInterpolation) -> Void, offsetMs: Int,
                              to q: inout Query.StringInterpolation) {
        q.appendLiteral(" AND j.id \(op) ")
        appendIdBoundValue(op, t, offsetMs: offsetMs, to: &q)
    }

    private static func appendIdBoundValue(_ op: String, _ t: (inout Query.StringInterpolation) -> Void, offsetMs: Int,
                                           to q: inout Query.StringInterpolation) {
        q.appendLiteral("(encode(substring(int8send(greatest(0, least(281474976710655, ")
        q.appendLiteral("least(greatest(floor(extract(epoch FROM ")
        t(&q)
        q.appendLiteral(") * 1000), -100000), 281474976810655)::bigint + (\(offsetMs))))) FROM 3), 'hex') || ")
        q.appendLiteral(op == ">=" ? "'00000000000000000000'" : "'ffffffffffffffffffff'")
        q.appendLiteral(")::uuid")
    }

    /// The jobs on `side` of T that are not drift jobs, as one id range whose bound is computed
    /// first (on `conn`, in the caller's transaction, so now() is the search's) and passed as a
    /// value: for a pair of job_queue_queue_type_id_idx (`queue:X age>1h`). With the bound as an
    /// expression the planner guesses a few rows in the range and reads all of a big pair's
    /// range by bitmap to sort it (300,000 rows, 1.2 s); with a value it sees the range's size
    /// and walks the pair's index in order. On the "before" side the range reaches T + 1 min, so
    /// it holds the late jobs too (their ids are at most a minute past created_at): at most a
    /// minute of the pair's jobs more, where the late index, read with the pair as a filter,
    /// would read every late job of that minute, of every queue.
    static func range(_ side: Side, _ t: (inout Query.StringInterpolation) -> Void, conn: Connection) throws
        -> (inout Query.StringInterpolation) -> Void {
        let (op, offset) = side == .before ? ("<=", 60_001) : (">=", -2)
        var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 2)
        q.appendLiteral("SELECT ")
        appendIdBoundValue(op, t, offsetMs: offset, to: &q)
        q.appendLiteral(" AS bound")
        let bound: UUID = try conn.run(Query(stringInterpolation: q)).first!.decode("bound")
        return { q in
            q.appendLiteral(" AND NOT \(drift()) AND j.id \(op) ")
            q.appendInterpolation(bound)
            q.appendLiteral("::uuid")
        }
    }
}

/// A time term of a filter, resolved (JobFilterSQL.createdTime): `created_at <op> T`.
struct FilterTermTime {
    let side: JobCreatedTime.Side
    let op: String
    let appendT: (inout Query.StringInterpolation) -> Void
}
