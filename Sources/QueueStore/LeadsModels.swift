import Foundation
import Postgres

/// What `queue_lead_migration` answered. `json` is the function's own jsonb, for `--json`.
public struct QueuedLeadMigration: Sendable, Equatable {
    /// The bulk operation's id; the seed calls it `message_id`.
    public var operationID: Int64
    public var runID: UUID
    public var runName: String
    public var funnelID: UUID
    public var columnID: UUID
    /// The job_queue job that lets the worker pool drive it (nil when already queued).
    public var jobID: UUID?
    public var total: Int64
    public var batchSize: Int
    /// "Movimentação enfileirada: N leads serão movidos".
    public var message: String
    public var alreadyQueued: Bool
    public var json: String
}

/// What a lead migration would move, for the operator to confirm before it is queued.
public struct LeadMigrationPreview: Sendable, Equatable {
    public var runName: String
    public var columnName: String
    /// Leads of the run now (the migration moves every one of them).
    public var leads: Int64
}

/// What `process_lead_migration_batch` answered.
public struct LeadMigrationBatch: Sendable, Equatable {
    /// nil when no migration was waiting.
    public var operationID: Int64?
    public var runID: UUID?
    public var runName: String?
    public var leadsMoved: Int64
    public var leadsRemaining: Int64
    public var success: Bool
    /// The seed's `error_message`: "Batch processado: …" on success, the failure otherwise.
    public var message: String
    public var status: BulkOperationStatus?
    public var json: String
}

/// What `get_lead_migration_queue_status` answered. "Messages" are active migrations.
public struct LeadMigrationQueueStatus: Sendable, Equatable {
    public var queueName: String
    public var totalMessages: Int64
    public var oldestMessage: Date?
    public var newestMessage: Date?
    public var pending: Int64
    public var running: Int64
    public var leadsRemaining: Int64
    public var json: String
}

/// What `cancel_lead_migration` answered.
public struct LeadMigrationCancellation: Sendable, Equatable {
    public var runID: UUID
    public var runName: String
    /// Migrations this call cancelled: 0 when none was active (a repeated cancel).
    public var cancelled: Int
    public var operationIDs: [Int64]
    /// Leads the cancelled migrations had moved (they stay moved) and had not.
    public var leadsMoved: Int64
    public var leadsNotMoved: Int64
    public var message: String
    public var json: String
}

/// One lead migration with its progress: a row of the `lead_migration_progress` view, read
/// directly (`leads status`) or inside the health snapshot's `lead_migrations` (the dashboard).
public struct LeadMigration: Sendable, Equatable, Codable {
    public var operationID: Int64
    public var runID: UUID
    public var runName: String
    public var funnelID: UUID
    public var columnID: UUID
    public var status: BulkOperationStatus
    public var moved: Int64
    public var remaining: Int64
    public var total: Int64
    public var batches: Int
    public var lastBatchAt: Date?
    public var lastBatchCount: Int64?
    public var batchSize: Int
    public var createdBy: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var cancelledAt: Date?
    public var error: String?

    /// The snapshot's snake_case keys become camelCase (HealthSnapshot.decode), which turns `operation_id` into
    /// `operationId`; these keys name the Swift properties that spell "ID" in capitals.
    enum CodingKeys: String, CodingKey {
        case operationID = "operationId", runID = "runId", runName, funnelID = "funnelId", columnID = "columnId"
        case status, moved, remaining, total, batches, lastBatchAt, lastBatchCount, batchSize, createdBy
        case createdAt, startedAt, finishedAt, cancelledAt, error
    }

    /// 0...1; a migration of an empty run counts as done.
    public var fraction: Double { total == 0 ? 1 : min(1, Double(moved) / Double(total)) }

    /// Leads per second from the start to the last batch (nil until leads have moved).
    public func rate(now: Date = Date()) -> Double? {
        guard let startedAt, moved > 0 else { return nil }
        let end = finishedAt ?? lastBatchAt ?? now
        let seconds = end.timeIntervalSince(startedAt)
        return seconds > 0 ? Double(moved) / seconds : nil
    }

    init(row: Row) throws {
        operationID = try row.decode("operation_id")
        runID = try row.decode("run_id")
        runName = try row.decode("run_name")
        funnelID = try row.decode("funnel_id")
        columnID = try row.decode("column_id")
        status = try BulkOperationStore.status(row.decode("status"))
        moved = try row.decode("moved")
        remaining = try row.decode("remaining")
        total = try row.decode("total")
        batches = try row.decode("batches")
        lastBatchAt = try row.decode("last_batch_at")
        lastBatchCount = try row.decode("last_batch_count")
        batchSize = try row.decode("batch_size")
        createdBy = try row.decode("created_by")
        createdAt = try row.decode("created_at")
        startedAt = try row.decode("started_at")
        finishedAt = try row.decode("finished_at")
        cancelledAt = try row.decode("cancelled_at")
        error = try row.decode("error")
    }
}
