import Foundation
import Postgres

/// Lead migrations (seed 003): move every lead of an extraction run into a funnel column, in
/// batches, with progress and cancel. Built on `BulkOperationStore`; these calls wrap the seed's
/// public RPC functions so the CLI, the dashboard and apps calling RPC all do the same thing.
public struct LeadMigrationStore: Sendable {
    public let connection: Connection
    /// The `bulk_operation_kinds` row the SQL registers.
    public static let kind = "lead_migration"

    public init(connection: Connection) { self.connection = connection }

    private var bulk: BulkOperationStore { BulkOperationStore(connection: connection) }

    /// Queues a migration (`queue_lead_migration`). Queueing the same run to the same column while
    /// it is active returns that migration with `alreadyQueued`; another column is a conflict.
    /// Unknown run, funnel or column, a column of another funnel, or a batch size outside
    /// 1...100000 throw `QueueStoreError` and change nothing.
    public func queue(run: UUID, funnel: UUID, column: UUID, batchSize: Int = 100) throws -> QueuedLeadMigration {
        let rows = try connection.run("""
            SELECT r::text AS raw, (r->>'operation_id')::bigint AS operation_id,
                   (r->>'run_id')::uuid AS run_id, r->>'run_name' AS run_name,
                   (r->>'funnel_id')::uuid AS funnel_id, (r->>'column_id')::uuid AS column_id,
                   (r->>'job_id')::uuid AS job_id, (r->>'total')::bigint AS total,
                   (r->>'batch_size')::int AS batch_size, r->>'message' AS message,
                   (r->>'already_queued')::bool AS already_queued
              FROM \(qt: "queue_lead_migration")(\(run), \(funnel), \(column), \(batchSize)) AS r
            """)
        guard let row = rows.first else { throw QueueStoreError.database("queue_lead_migration returned nothing") }
        return QueuedLeadMigration(
            operationID: try row.decode("operation_id"), runID: try row.decode("run_id"),
            runName: try row.decode("run_name"), funnelID: try row.decode("funnel_id"),
            columnID: try row.decode("column_id"), jobID: try row.decode("job_id"),
            total: try row.decode("total"), batchSize: try row.decode("batch_size"),
            message: try row.decode("message"), alreadyQueued: try row.decode("already_queued"),
            json: try row.decode("raw"))
    }

    /// What `queue` would move, for a confirmation. Refuses exactly what `queue` refuses
    /// (unknown run, funnel or column, a column of another funnel, a batch size outside
    /// 1...100000), with the same errors, and changes nothing.
    public func preview(run: UUID, funnel: UUID, column: UUID, batchSize: Int = 100) throws -> LeadMigrationPreview {
        try connection.run("SELECT \(qt: "_check_batch_size")(\(batchSize), 'batch size')")
        let row = try connection.run("""
            SELECT \(qt: "_lead_migration_check_target")(\(run), \(funnel), \(column)) AS run_name,
                   (SELECT name FROM \(qt: "funnel_columns") WHERE id = \(column)) AS column_name,
                   (SELECT count(*) FROM \(qt: "leads") WHERE run_id = \(run)) AS leads
            """)[0]
        return LeadMigrationPreview(runName: try row.decode("run_name"), columnName: try row.decode("column_name"),
                                    leads: try row.decode("leads"))
    }

    /// One batch of whichever active migration's turn it is (`process_lead_migration_batch`);
    /// `operationID` nil in the result means there was nothing to do.
    public func processNextBatch(batchSize: Int? = 100) throws -> LeadMigrationBatch {
        let rows = try connection.run("""
            SELECT r::text AS raw, (r->>'message_id')::bigint AS operation_id,
                   (r->>'run_id')::uuid AS run_id, r->>'run_name' AS run_name,
                   (r->>'leads_moved')::bigint AS leads_moved,
                   (r->>'leads_remaining')::bigint AS leads_remaining,
                   (r->>'success')::bool AS success, r->>'error_message' AS error_message,
                   r->>'status' AS status
              FROM \(qt: "process_lead_migration_batch")(\(batchSize)::int) AS r
            """)
        guard let row = rows.first else { throw QueueStoreError.database("process_lead_migration_batch returned nothing") }
        let status: String? = try row.decode("status")
        return LeadMigrationBatch(
            operationID: try row.decode("operation_id"), runID: try row.decode("run_id"),
            runName: try row.decode("run_name"), leadsMoved: try row.decode("leads_moved"),
            leadsRemaining: try row.decode("leads_remaining"), success: try row.decode("success"),
            message: try row.decode("error_message"),
            status: try status.map(BulkOperationStatus.init(validating:)), json: try row.decode("raw"))
    }

    /// One batch of this migration, in its own transaction.
    @discardableResult
    public func runBatch(operationID: Int64, batchSize: Int? = nil) throws -> BulkBatchResult {
        try bulk.runBatch(operationID: operationID, batchSize: batchSize)
    }

    /// Drives this migration from the calling thread until it completes, is cancelled or fails
    /// (or `onBatch` returns false). Each batch is its own transaction and round trip.
    @discardableResult
    public func runUntilDone(operationID: Int64, batchSize: Int? = nil,
                             onBatch: (BulkBatchResult) -> Bool = { _ in true }) throws -> BulkBatchResult {
        try bulk.runUntilDone(operationID: operationID, batchSize: batchSize, onBatch: onBatch)
    }

    /// The seed's queue summary (`get_lead_migration_queue_status`).
    public func queueStatus() throws -> LeadMigrationQueueStatus {
        let rows = try connection.run("""
            SELECT r::text AS raw, r->>'queue_name' AS queue_name,
                   (r->>'total_messages')::bigint AS total_messages,
                   (r->>'oldest_message')::timestamptz AS oldest_message,
                   (r->>'newest_message')::timestamptz AS newest_message,
                   (r->>'pending')::bigint AS pending, (r->>'running')::bigint AS running,
                   (r->>'leads_remaining')::bigint AS leads_remaining
              FROM \(qt: "get_lead_migration_queue_status")() AS r
            """)
        guard let row = rows.first else { throw QueueStoreError.database("get_lead_migration_queue_status returned nothing") }
        return LeadMigrationQueueStatus(
            queueName: try row.decode("queue_name"), totalMessages: try row.decode("total_messages"),
            oldestMessage: try row.decode("oldest_message"), newestMessage: try row.decode("newest_message"),
            pending: try row.decode("pending"), running: try row.decode("running"),
            leadsRemaining: try row.decode("leads_remaining"), json: try row.decode("raw"))
    }

    /// Cancels the run's active migrations (`cancel_lead_migration`). A batch in flight finishes;
    /// moved leads stay moved. An unknown run throws `.notFound`; cancelling again reports 0.
    public func cancel(run: UUID) throws -> LeadMigrationCancellation {
        let rows = try connection.run("""
            SELECT r::text AS raw, (r->>'run_id')::uuid AS run_id, r->>'run_name' AS run_name,
                   (r->>'cancelled')::int AS cancelled,
                   ARRAY(SELECT jsonb_array_elements_text(r->'operation_ids')::bigint) AS operation_ids,
                   (r->>'leads_moved')::bigint AS leads_moved,
                   (r->>'leads_not_moved')::bigint AS leads_not_moved, r->>'message' AS message
              FROM \(qt: "cancel_lead_migration")(\(run)) AS r
            """)
        guard let row = rows.first else { throw QueueStoreError.database("cancel_lead_migration returned nothing") }
        return LeadMigrationCancellation(
            runID: try row.decode("run_id"), runName: try row.decode("run_name"),
            cancelled: try row.decode("cancelled"), operationIDs: try row.decode("operation_ids"),
            leadsMoved: try row.decode("leads_moved"), leadsNotMoved: try row.decode("leads_not_moved"),
            message: try row.decode("message"), json: try row.decode("raw"))
    }

    /// Rows of `lead_migration_progress`: the active migrations and those finished within
    /// `recent` seconds, newest first (the view itself keeps every migration).
    public func progress(recent: TimeInterval = 86_400, limit: Int = 50) throws -> [LeadMigration] {
        try connection.run("""
            SELECT operation_id, run_id, run_name, funnel_id, column_id, status, moved, remaining,
                   total, batches, last_batch_at, last_batch_count, batch_size, created_by,
                   created_at, started_at, finished_at, cancelled_at, error
              FROM \(qt: "lead_migration_progress")
             WHERE status IN ('pending', 'running') OR finished_at > now() - make_interval(secs => \(recent))
             ORDER BY operation_id DESC LIMIT \(limit)
            """).map(LeadMigration.init(row:))
    }

    /// `{"queue": get_lead_migration_queue_status(), "migrations": [lead_migration_progress rows]}`
    /// as one JSON document, for `--json` (same filter as `progress`).
    public func statusJSON(recent: TimeInterval = 86_400, limit: Int = 50) throws -> String {
        try connection.run("""
            SELECT jsonb_build_object(
                       'queue', \(qt: "get_lead_migration_queue_status")(),
                       'migrations', coalesce((
                           SELECT jsonb_agg(to_jsonb(p) ORDER BY p.operation_id DESC)
                             FROM (SELECT * FROM \(qt: "lead_migration_progress")
                                    WHERE status IN ('pending', 'running')
                                       OR finished_at > now() - make_interval(secs => \(recent))
                                    ORDER BY operation_id DESC LIMIT \(limit)) p), '[]'))::text
            """).scalar()
    }

    /// One migration's progress, or nil.
    public func progress(operationID: Int64) throws -> LeadMigration? {
        try connection.run("""
            SELECT operation_id, run_id, run_name, funnel_id, column_id, status, moved, remaining,
                   total, batches, last_batch_at, last_batch_count, batch_size, created_by,
                   created_at, started_at, finished_at, cancelled_at, error
              FROM \(qt: "lead_migration_progress") WHERE operation_id = \(operationID)
            """).first.map(LeadMigration.init(row:))
    }
}

extension BulkOperationStatus {
    init(validating text: String) throws { self = try BulkOperationStore.status(text) }
}
