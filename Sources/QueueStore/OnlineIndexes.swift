import Foundation
import Postgres

/// Indexes on `job_queue` that `queuetop migrate` builds with CREATE INDEX CONCURRENTLY, after
/// (and outside) the install transaction.
///
/// Why not a versioned migration: a migration runs inside the install's one transaction, where
/// CREATE INDEX takes a SHARE lock on `job_queue` for the whole build (minutes at 10 M rows), and
/// every enqueue, claim and completion waits behind it. CONCURRENTLY takes only a lock that
/// writers do not wait for, but it cannot run in a transaction block. So these are built here,
/// one at a time, after the install committed.
///
/// Resumable: a concurrent build that fails or is interrupted (the connection drops, the
/// process is killed, a deadlock) leaves an INVALID index behind, which the planner never uses
/// but every write still maintains. The next `migrate` finds it, drops it (DROP INDEX
/// CONCURRENTLY) and builds it again. An index another session is still building (it is INVALID
/// until the build ends) is left to that session: two `migrate`s at once never drop each other's
/// build. No session advisory lock: it would leak through a transaction pooler.
///
/// Why these (docs/JOBS.md "How a search stays cheap", figures in docs/BENCHMARKS.md): a filter on
/// a rare tenant or a dedup key (0026), a rare queue or type, or running, dead or cancelled jobs
/// or waiting to retry (0027) had no index yielding its rows newest first and walked the primary key through every
/// newer row (1-4 s or a timeout at 10 M rows); likewise time filters, completed and scheduled
/// jobs (0031); pending (due) and retrying jobs whatever the mix of due and waiting ones (0033).
/// All but (queue, job_type, id) are partial: a job takes an entry only when it has
/// a tenant or a key, is claimed, dies, is cancelled, fails, completes, is enqueued (for now or
/// for later), or its created_at disagrees with its id's time.
public enum OnlineIndexes {
    public struct Index: Sendable, Equatable {
        public let name: String
        /// What follows `ON <schema>.job_queue`: the columns and the predicate.
        public let definition: String
    }

    public static let all: [Index] = [
        Index(name: "job_queue_tenant_id_idx", definition: "(tenant, id) WHERE tenant IS NOT NULL"),
        Index(name: "job_queue_key_id_idx", definition: "(dedup_key, id) WHERE dedup_key IS NOT NULL"),
        // 0027: queue, type and the rare states, newest first (docs/JOBS.md "How a search stays cheap").
        Index(name: "job_queue_queue_type_id_idx", definition: "(queue, job_type, id)"),
        Index(name: "job_queue_running_id_idx", definition: "(id) WHERE status = 'processing' OR locked_by IS NOT NULL"),
        Index(name: "job_queue_dead_id_idx", definition: "(id) WHERE status IN ('dead_letter', 'failed')"),
        Index(name: "job_queue_cancelled_id_idx", definition: "(id) WHERE status = 'cancelled'"),
        Index(name: "job_queue_retrying_id_idx", definition: "(id) WHERE status = 'pending' AND attempt_count > 0"),
        // 0031: time (jobs whose created_at is far from their id's time), completed, scheduled.
        Index(name: "job_queue_time_late_id_idx", definition: "(id) WHERE \(JobCreatedTime.late(table: nil))"),
        Index(name: "job_queue_time_drift_id_idx", definition: "(id) WHERE \(JobCreatedTime.drift(table: nil))"),
        Index(name: "job_queue_completed_id_idx", definition: "(id) WHERE status = 'completed'"),
        Index(name: "job_queue_scheduled_id_idx", definition: "(id) WHERE status = 'pending' AND attempt_count = 0 AND run_at > created_at"),
        // 0033: pending (due) and retrying (waiting), whose line is now(): JobSearchDue.
        Index(name: "job_queue_ready_id_idx", definition: "(id) WHERE \(JobSearchDue.ready(table: nil))"),
        Index(name: "job_queue_deferred_run_at_idx",
              definition: "((\(JobSearchDue.kind(table: nil))), run_at, id) WHERE \(JobSearchDue.deferred(table: nil))"),
    ]

    /// Builds each index of `indexes` that `schema.job_queue` lacks or holds INVALID, and returns
    /// the names built (empty when all were there and valid). Does nothing when the schema has
    /// no `job_queue` (a migration set without the queue engine). Must run outside a transaction.
    @discardableResult
    public static func build(schema: String, indexes: [Index] = all, on conn: Connection) throws -> [String] {
        try InstallScript.validateSchema(schema)
        let hasTable: Bool = try conn.query("SELECT to_regclass(format('%I.job_queue', \(schema)::text)) IS NOT NULL").scalar()
        guard hasTable else { return [] }
        let quotedSchema = quote(schema)
        return try conn.withPatience(.unbounded) {
            // No statement timeout from the role: a build at 10 M rows takes minutes. A session
            // setting (CONCURRENTLY cannot run in a transaction, where SET LOCAL would do),
            // reset when done.
            try conn.executeScript("SET statement_timeout = 0")
            defer { _ = try? conn.executeScript("RESET statement_timeout") }
            var built: [String] = []
            for index in indexes {
                let state = try conn.query("""
                    SELECT i.indisvalid AND i.indisready AS valid,
                           EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
                                   WHERE p.index_relid = i.indexrelid AND p.pid <> pg_backend_pid()) AS building
                    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = \(schema) AND c.relname = \(index.name)
                    """).first
                let valid: Bool? = try state?.decode("valid")
                let building: Bool = try state?.decode("building") ?? false
                if valid == true || building { continue }
                let qualified = quotedSchema + "." + quote(index.name)
                if valid == false {
                    // Left by a build that did not finish: never used by the planner, still costs
                    // every write. Dropped without blocking writers, then built again.
                    try conn.executeScript("DROP INDEX CONCURRENTLY IF EXISTS \(qualified)")
                }
                try conn.executeScript(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS \(quote(index.name)) ON \(quotedSchema).job_queue \(index.definition)")
                built.append(index.name)
            }
            return built
        }
    }

    /// Whether every index is there and valid (what `migrate`'s status reports as pending otherwise).
    public static func missing(schema: String, indexes: [Index] = all, on conn: Connection) throws -> [String] {
        try InstallScript.validateSchema(schema)
        let hasTable: Bool = try conn.query("SELECT to_regclass(format('%I.job_queue', \(schema)::text)) IS NOT NULL").scalar()
        guard hasTable else { return [] }
        let valid: [String] = try conn.query("""
            SELECT c.relname::text AS name FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(schema) AND i.indisvalid AND i.indisready AND c.relname = ANY(\(indexes.map(\.name))::text[])
            """).map { try $0.decode("name") }
        return indexes.map(\.name).filter { !valid.contains($0) }
    }

    private static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
