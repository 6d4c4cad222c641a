import Foundation
import Postgres

/// `state:pending` (due now) and `state:retrying` (a failed job waiting for its next attempt) as
/// index reads that stay short whatever the mix of due and waiting jobs (migration 0033).
///
/// Both states are status 'pending' told apart by `run_at <= now()`, and no index predicate can
/// hold now(): an id-ordered index of pending (or retrying) jobs holds the due and the waiting
/// ones alike, and a newest-first page of one side walks through every newer job of the other
/// (the 5 s timeout for `state:pending` at 10 M rows when the few due jobs are old among completed
/// ones; 2.3 s for `state:retrying` when 1.4 M retries had come due unclaimed). Pending jobs fall
/// in three disjoint kinds (attempt_count is never negative):
///
/// - "ready": never attempted, run_at <= created_at (an ordinary enqueue). Due from creation until
///   claimed, so 0033's job_queue_ready_id_idx, read in id order, is a page of `state:pending`
///   at once: every entry matches (but for a job created in the future: the scope's
///   `run_at <= now()` still checks each row).
/// - "scheduled" (never attempted, run_at > created_at: 0031's job_queue_scheduled_id_idx) and
///   "retries" (attempt_count > 0: 0027's job_queue_retrying_id_idx). Each holds due and
///   waiting jobs. 0033's job_queue_deferred_run_at_idx keys both by (kind, run_at), so the
///   due ones of a kind and its waiting ones are each one range. The search counts the side it
///   wants, up to `smallSide` entries: at most that many, it reads that range and sorts it by id
///   (a range read ignores id order, so it reads the whole side, never more than `smallSide`);
///   more, it walks the kind's id-ordered index, which then reads past the other side's jobs
///   newer than the page. That walk is short while the other side is small, the usual case
///   (waiting retries in a queue that keeps up; due ones in one whose workers claim them): when
///   both sides of a kind hold more than `smallSide` jobs it can still be long (docs/JOBS.md
///   "How a search stays cheap").
enum JobSearchDue {
    /// The most jobs a side is read whole and sorted (rather than walked in id order): ~10 ms of
    /// heap reads at 10 M rows, where a walk past as many jobs of the other side costs more.
    static let smallSide = 10_000

    static let readyIndex = "job_queue_ready_id_idx"
    static let deferredIndex = "job_queue_deferred_run_at_idx"

    private static func column(_ table: String?, _ name: String) -> String {
        (table.map { $0 + "." } ?? "") + name
    }

    /// job_queue_ready_id_idx's predicate: pending, never attempted, due since created.
    static func ready(table: String? = "j") -> String {
        "\(column(table, "status")) = 'pending' AND \(column(table, "attempt_count")) = 0 AND \(column(table, "run_at")) <= \(column(table, "created_at"))"
    }

    /// job_queue_deferred_run_at_idx's predicate: the other pending jobs (retries and scheduled).
    static func deferred(table: String? = "j") -> String {
        "\(column(table, "status")) = 'pending' AND (\(column(table, "attempt_count")) > 0 OR \(column(table, "run_at")) > \(column(table, "created_at")))"
    }

    /// job_queue_deferred_run_at_idx's first column: 1 for a retry, 0 for a scheduled job.
    static func kind(table: String? = "j") -> String {
        "(\(column(table, "attempt_count")) > 0)::int"
    }

    /// Which due-time state a split reads.
    enum Want: Equatable {
        /// `state:pending`: due now.
        case due
        /// `state:retrying`: retries not yet due.
        case waitingRetries
    }

    /// How one branch of the search reads its rows.
    struct Branch {
        /// ` AND …`: the branch's own condition (the scope is the search's).
        let condition: String
        /// True: a range of job_queue_deferred_run_at_idx, read whole, then sorted by id. False:
        /// an id-ordered index walk.
        let readWhole: Bool
    }

    /// The branches that together hold every job of `want` exactly once, or nil when 0033's
    /// indexes are not there yet (or not valid): the caller then reads one plain branch.
    static func branches(_ want: Want, _ conn: Connection) throws -> [Branch]? {
        guard try JobSearchSource.indexesUsable([readyIndex, deferredIndex], conn) else { return nil }
        // One range per kind: `run_at <= now()` (due) or `> now()` (waiting), counted up to
        // smallSide + 1 entries (an index-only read of the range).
        func count(_ kind: Int, due: Bool) throws -> Int {
            try conn.run("""
                SELECT count(*)::int FROM (SELECT 1 FROM \(qt: "job_queue") j
                  WHERE \(unsafeRaw: deferred()) AND \(unsafeRaw: Self.kind()) = \(kind)
                    AND j.run_at \(unsafeRaw: due ? "<=" : ">") now() LIMIT \(smallSide + 1)) x
                """).scalar()
        }
        func side(_ kind: Int, due: Bool) throws -> Branch {
            if try count(kind, due: due) <= smallSide {
                return Branch(condition: " AND \(deferred()) AND \(Self.kind()) = \(kind) AND j.run_at \(due ? "<=" : ">") now()",
                              readWhole: true)
            }
            // The kind's id-ordered index (0031's scheduled, 0027's retrying), spelled as its predicate.
            let walk = kind == 1 ? " AND j.status = 'pending' AND j.attempt_count > 0"
                                 : " AND j.status = 'pending' AND j.attempt_count = 0 AND j.run_at > j.created_at"
            return Branch(condition: walk, readWhole: false)
        }
        switch want {
        case .due:
            return [Branch(condition: " AND \(ready())", readWhole: false), try side(0, due: true), try side(1, due: true)]
        case .waitingRetries:
            return [try side(1, due: false)]
        }
    }
}
