import Foundation
import Postgres

/// Copies the id tails of the jobs enqueued before migration 0028 into `job_queue_ids`, then
/// drops 0020's `job_queue_id_tail_idx`; `queuetop migrate` runs it after the install commits.
///
/// Why not in the migration: on a table of millions of jobs one INSERT … SELECT would hold its
/// transaction (and the install's locks) for minutes. Here each batch is its own short
/// transaction that locks nothing writers wait for: enqueues go on (their trigger writes their
/// own tails meanwhile; ON CONFLICT skips a tail both wrote), and claims and completions never
/// touch `job_queue_ids`. The walk follows job_queue's primary key upwards from the last id
/// copied, which `job_queue_ids_backfill` keeps, so an interrupted copy resumes where it stopped;
/// the row is locked FOR UPDATE per batch, so two `migrate`s at once take turns. Until the row is
/// gone `job_ids_ending` reads the old index, which every job still has. Then the index goes
/// with DROP INDEX CONCURRENTLY (it cannot run in a transaction block), also on a later run if
/// this one was interrupted between the two.
public enum IdTailBackfill {
    public static let oldIndex = "job_queue_id_tail_idx"
    /// Jobs per transaction: a batch takes well under a second at any table size.
    public static let defaultBatch = 10_000

    public struct Outcome: Sendable, Equatable {
        /// Jobs whose tail this run copied (those the trigger had written already not counted).
        public var copied = 0
        /// Whether this run dropped job_queue_id_tail_idx.
        public var droppedOldIndex = false
    }

    /// Does nothing on a schema without `job_queue_ids_backfill` (before 0028). Must run outside
    /// a transaction.
    @discardableResult
    public static func run(schema: String, batch: Int = defaultBatch, on conn: Connection) throws -> Outcome {
        try InstallScript.validateSchema(schema)
        precondition(batch > 0)
        let s = quote(schema)
        let hasTable: Bool = try conn.query(
            "SELECT to_regclass(format('%I.job_queue_ids_backfill', \(schema)::text)) IS NOT NULL").scalar()
        guard hasTable else { return Outcome() }
        var outcome = Outcome()
        try conn.withPatience(.unbounded) {
            while true {
                let more: Bool = try conn.transaction { tx in
                    let state = try tx.query(Query(unsafeSQL: "SELECT after_id FROM \(s).job_queue_ids_backfill FOR UPDATE")).first
                    guard let state else { return false }
                    let after: UUID? = try state.decode("after_id")
                    let row = try tx.query("""
                        WITH b AS (SELECT j.id FROM \(unsafeRaw: s).job_queue j
                                   WHERE \(after)::uuid IS NULL OR j.id > \(after)::uuid
                                   ORDER BY j.id LIMIT \(batch)::int),
                             ins AS (INSERT INTO \(unsafeRaw: s).job_queue_ids (tail, id)
                                     SELECT \(unsafeRaw: s)._id_tail_key(b.id), b.id FROM b ON CONFLICT DO NOTHING RETURNING 1)
                        SELECT (SELECT count(*) FROM b)::int AS seen, (SELECT count(*) FROM ins)::int AS copied,
                               (SELECT b.id FROM b ORDER BY b.id DESC LIMIT 1) AS last
                        """).first
                    let seen: Int = try row?.decode("seen") ?? 0
                    outcome.copied += try row?.decode("copied") ?? 0
                    if seen < batch {
                        try tx.query(Query(unsafeSQL: "DELETE FROM \(s).job_queue_ids_backfill"))
                        return false
                    }
                    let last: UUID? = try row?.decode("last")
                    try tx.query("UPDATE \(unsafeRaw: s).job_queue_ids_backfill SET after_id = \(last)::uuid")
                    return true
                }
                if !more { break }
            }
            let oldIndexThere: Bool = try conn.query(
                "SELECT to_regclass(format('%I.%I', \(schema)::text, \(oldIndex)::text)) IS NOT NULL").scalar()
            if oldIndexThere {
                try conn.executeScript("SET statement_timeout = 0")
                defer { _ = try? conn.executeScript("RESET statement_timeout") }
                try conn.executeScript("DROP INDEX CONCURRENTLY IF EXISTS \(s).\(quote(oldIndex))")
                outcome.droppedOldIndex = true
            }
        }
        return outcome
    }

    /// What `run` still has to do on `schema`, in words for `migrate --status`: the copy (while
    /// `job_queue_ids_backfill` holds its row) and the old index's drop. Empty before 0028 and
    /// once both are done. Reads only; a role that may not read the bookkeeping row is told so.
    public static func pending(schema: String, on conn: Connection) throws -> [String] {
        try InstallScript.validateSchema(schema)
        let row = try conn.query("""
            SELECT t IS NOT NULL AS has_copy, coalesce(has_table_privilege(t, 'SELECT'), false) AS readable,
                   to_regclass(format('%I.%I', \(schema)::text, \(oldIndex)::text)) IS NOT NULL AS old_index
            FROM (SELECT to_regclass(format('%I.job_queue_ids_backfill', \(schema)::text)) AS t) x
            """).first
        guard let row, try row.decode("has_copy") as Bool else { return [] }
        let oldIndexThere: Bool = try row.decode("old_index")
        guard try row.decode("readable") as Bool else {
            return ["job_queue_ids: this role cannot read job_queue_ids_backfill to tell whether the id tails of older jobs are copied"]
        }
        let copyLeft: Bool = try conn.query(Query(unsafeSQL:
            "SELECT EXISTS (SELECT 1 FROM \(quote(schema)).job_queue_ids_backfill)")).scalar()
        if copyLeft {
            return ["job_queue_ids: copy the id tails of the jobs enqueued before 0028, then drop index \(oldIndex) "
                    + "(`queuetop migrate` does both online)"]
        }
        return oldIndexThere ? ["index \(oldIndex): drop it (`queuetop migrate` does, concurrently)"] : []
    }

    private static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
