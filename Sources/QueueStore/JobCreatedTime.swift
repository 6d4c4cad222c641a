import Foundation
import Postgres

/// A filter on created_at (`age>2h`, `since:14:00`) as a primary-key range, exactly.
///
/// Ids are UUIDv7: the first 48 bits are the milliseconds of the clock when uuid_v7() drew the
/// id, and created_at is the enqueue transaction's start (now()), which is never later than that
/// clock. So for a job enqueued the usual way created_at lies between `earlierBy` before its
/// id's time and `laterBy` after it (rounding), and "created before T" is "id time before
/// T + earlierBy" for those jobs: a range of the primary key, newest or oldest first, instead of
/// a walk through every job of the last hours.
///
/// The jobs where the two disagree by more (created_at set by hand or by an import, an id not
/// drawn by uuid_v7(), an enqueue transaction that ran longer than `earlierBy` before drawing
/// the id) are migration 0031's partial index job_queue_time_drift_id_idx (the predicate
/// `drift`). A time search reads two branches, the range of the others and those, so its rows
/// are exactly those plain SQL over created_at returns. An ordinary enqueue adds no entry.
///
/// Why 1 s: every range starts up to that much past T, and reads (and drops) the jobs created in
/// that second; a longer tolerance reads more of them at a high enqueue rate, a shorter one puts
/// more jobs of long batch enqueues in the drift index.
enum JobCreatedTime {
    /// The predicate of job_queue_time_drift_id_idx over `table` (nil: bare columns, as in the
    /// index definition). Only immutable built-ins, as an index predicate needs: the id's
    /// milliseconds come from its text (extract(epoch FROM timestamptz) is not immutable). The
    /// query must spell it as the index does for the planner to use the index.
    static func drift(table: String? = "j") -> String {
        let p = table.map { $0 + "." } ?? ""
        return "(\(p)created_at - to_timestamp(('x' || translate(left(\(p)id::text, 13), '-', ''))::bit(48)::bigint / 1000.0))"
            + " NOT BETWEEN interval '-1 s' AND interval '1 ms'"
    }

    /// Which side of T the filter keeps.
    enum Side {
        /// created_at < T or <= T (`age>`, `age>=`).
        case before
        /// created_at > T or >= T (`since:`, `age<`, `age<=`).
        case after
    }

    /// ` AND j.id <= <largest id a non-drifting job created at or before T can have>` (or `>=`
    /// the smallest one created at or after T). A superset of the range, by a few milliseconds
    /// of slack: the rows themselves are checked against created_at by the search's own terms.
    /// `t` appends T as a timestamptz expression.
    static func appendIdRange(_ side: Side, _ t: (inout Query.StringInterpolation) -> Void,
                              to q: inout Query.StringInterpolation) {
        // T in whole milliseconds, clamped to what 48 bits hold (and a little beyond, so the
        // cast never overflows whatever T is: ±infinity, year 200000).
        q.appendLiteral(side == .before ? " AND j.id <= " : " AND j.id >= ")
        q.appendLiteral("(encode(substring(int8send(greatest(0, least(281474976710655, ")
        q.appendLiteral("least(greatest(floor(extract(epoch FROM ")
        t(&q)
        q.appendLiteral(") * 1000), -10000), 281474976720655)::bigint")
        // Before T: the id's time is at most T + 1 s (+1 ms of rounding). After T: at least T - 1 ms (-1 of rounding).
        q.appendLiteral(side == .before ? " + 1001" : " - 2")
        q.appendLiteral("))) FROM 3), 'hex') || ")
        q.appendLiteral(side == .before ? "'ffffffffffffffffffff'" : "'00000000000000000000'")
        q.appendLiteral(")::uuid")
    }
}

/// A time term of a filter, resolved (JobFilterSQL.createdTime): `created_at <op> T`.
struct FilterTermTime {
    let side: JobCreatedTime.Side
    let op: String
    let appendT: (inout Query.StringInterpolation) -> Void
}
