import Foundation
import Postgres

/// The lifecycle of a bulk operation (`bulk_operations.status`).
public enum BulkOperationStatus: String, Sendable, Codable, CaseIterable {
    case pending, running, completed, cancelled, failed

    /// Pending and running operations still have batches to run.
    public var isActive: Bool { self == .pending || self == .running }
}

/// What one call of `run_bulk_operation_batch` did, and the operation's progress after it.
public struct BulkBatchResult: Sendable, Equatable {
    public var operationID: Int64
    public var kind: String
    /// Rows this batch handled (0 when the operation was already cancelled or finished).
    public var rowsDone: Int64
    public var status: BulkOperationStatus
    public var done: Int64
    public var total: Int64
    public var remaining: Int64
}

/// One row of the `bulk_operation_progress` view.
public struct BulkOperation: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var status: BulkOperationStatus
    public var done: Int64
    public var remaining: Int64
    public var total: Int64
    public var batches: Int
    public var batchSize: Int
    public var lastBatchAt: Date?
    public var lastBatchCount: Int64?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var cancelledAt: Date?
    public var error: String?
}

/// The general batched-operation mechanism (migration 0002): run one batch, run to the end,
/// cancel, read progress. Every kind (lead migrations, and whatever is registered in
/// `bulk_operation_kinds` later) goes through these same calls.
public struct BulkOperationStore: Sendable {
    public let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Runs one batch of the operation in its own transaction. `batchSize` nil uses the
    /// operation's own. Waits while another process runs a batch of the same operation.
    @discardableResult
    public func runBatch(operationID: Int64, batchSize: Int? = nil) throws -> BulkBatchResult {
        do {
            return try rawBatch(operationID: operationID, batchSize: batchSize)
        } catch let error as PostgresError where !error.isConnectionProblem && !error.meansSchemaMoved {
            throw QueueStoreError.from(error)
        }
    }

    /// Like `runBatch`, but server errors stay `PostgresError`s so callers can read the SQLSTATE.
    private func rawBatch(operationID: Int64, batchSize: Int?) throws -> BulkBatchResult {
        let rows = try connection.query("""
            SELECT operation_id, kind, rows_done, status, done, total, remaining
              FROM \(qt: "run_bulk_operation_batch")(\(operationID), \(batchSize)::int)
            """)
        guard let row = rows.first else {
            throw QueueStoreError.database("run_bulk_operation_batch returned no row for operation \(operationID)")
        }
        return try Self.batchResult(row)
    }

    /// Runs one batch of the active operation whose turn it is (of `kind`, or of any kind);
    /// nil when there is nothing to do. Parallel callers take different operations.
    public func runNextBatch(kind: String? = nil, batchSize: Int? = nil) throws -> BulkBatchResult? {
        let rows = try connection.run("""
            SELECT operation_id, kind, rows_done, status, done, total, remaining
              FROM \(qt: "run_next_bulk_operation_batch")(\(kind)::text, \(batchSize)::int)
            """)
        return try rows.first.map(Self.batchResult)
    }

    /// Runs batches, each its own transaction and round trip, until the operation is completed,
    /// cancelled or failed, or `onBatch` returns false. Returns the last result.
    ///
    /// A batch that moved nothing while the operation is still active means its remaining rows
    /// are locked by someone else: the loop waits a little longer each time (up to a second)
    /// instead of spinning. Deadlocks and lock timeouts roll back only that batch and are retried.
    @discardableResult
    /// `statementTimeout` (seconds) bounds each batch: `set_config('statement_timeout', …, true)`
    /// in the batch's own transaction, so it never outlives it (a session setting would stay on
    /// a pooled server connection behind a transaction pooler and time out other clients).
    public func runUntilDone(operationID: Int64, batchSize: Int? = nil, statementTimeout: Double? = nil,
                             onBatch: (BulkBatchResult) -> Bool = { _ in true }) throws -> BulkBatchResult {
        var idleDelay = 0.02
        var transientFailures = 0
        while true {
            let result: BulkBatchResult
            do {
                if let statementTimeout {
                    result = try connection.transaction { tx in
                        try tx.setLocalStatementTimeout(statementTimeout)
                        return try rawBatch(operationID: operationID, batchSize: batchSize)
                    }
                } else {
                    result = try connection.withPatience(.batch) { try rawBatch(operationID: operationID, batchSize: batchSize) }
                }
                transientFailures = 0
            } catch let error as PostgresError where Self.isTransient(error) && transientFailures < 5 {
                transientFailures += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(transientFailures))
                continue
            } catch let error as PostgresError where !error.isConnectionProblem && !error.meansSchemaMoved {
                throw QueueStoreError.from(error)
            }
            guard onBatch(result), result.status.isActive else { return result }
            if result.rowsDone == 0 {
                Thread.sleep(forTimeInterval: idleDelay)
                idleDelay = min(idleDelay * 2, 1.0)
            } else {
                idleDelay = 0.02
            }
        }
    }

    /// Cancels the operation; false when it was no longer active (cancelling again is harmless).
    /// A batch in flight finishes first; rows it handled stay handled.
    @discardableResult
    public func cancel(operationID: Int64) throws -> Bool {
        try connection.run("SELECT \(qt: "cancel_bulk_operation")(\(operationID))").scalar()
    }

    /// One operation's progress, or nil if there is no such operation.
    public func operation(id: Int64) throws -> BulkOperation? {
        try connection.run("""
            SELECT operation_id, kind, status, done, remaining, total, batches, batch_size,
                   last_batch_at, last_batch_count, created_at, started_at, finished_at,
                   cancelled_at, error
              FROM \(qt: "bulk_operation_progress") WHERE operation_id = \(id)
            """).first.map(Self.operation)
    }

    /// Active operations and those finished in the last `recent` seconds, newest first.
    public func operations(kind: String? = nil, recent: TimeInterval = 86_400, limit: Int = 50) throws -> [BulkOperation] {
        try connection.run("""
            SELECT operation_id, kind, status, done, remaining, total, batches, batch_size,
                   last_batch_at, last_batch_count, created_at, started_at, finished_at,
                   cancelled_at, error
              FROM \(qt: "bulk_operation_progress")
             WHERE (\(kind)::text IS NULL OR kind = \(kind)::text)
               AND (status IN ('pending', 'running') OR finished_at > now() - make_interval(secs => \(recent)))
             ORDER BY operation_id DESC LIMIT \(limit)
            """).map(Self.operation)
    }

    /// Deadlock, serialization failure or lock timeout: the batch rolled back whole
    /// and running it again is safe.
    static func isTransient(_ error: PostgresError) -> Bool {
        guard error.kind == .query, let state = error.sqlState else { return false }
        return state.hasPrefix("40") || state == "55P03"
    }

    static func batchResult(_ row: Row) throws -> BulkBatchResult {
        BulkBatchResult(
            operationID: try row.decode("operation_id"), kind: try row.decode("kind"),
            rowsDone: try row.decode("rows_done"), status: try status(row.decode("status")),
            done: try row.decode("done"), total: try row.decode("total"), remaining: try row.decode("remaining"))
    }

    static func operation(_ row: Row) throws -> BulkOperation {
        BulkOperation(
            id: try row.decode("operation_id"), kind: try row.decode("kind"),
            status: try status(row.decode("status")), done: try row.decode("done"),
            remaining: try row.decode("remaining"), total: try row.decode("total"),
            batches: try row.decode("batches"), batchSize: try row.decode("batch_size"),
            lastBatchAt: try row.decode("last_batch_at"), lastBatchCount: try row.decode("last_batch_count"),
            createdAt: try row.decode("created_at"), startedAt: try row.decode("started_at"),
            finishedAt: try row.decode("finished_at"), cancelledAt: try row.decode("cancelled_at"),
            error: try row.decode("error"))
    }

    static func status(_ text: String) throws -> BulkOperationStatus {
        guard let s = BulkOperationStatus(rawValue: text) else {
            throw QueueStoreError.database("unknown bulk operation status \(text.debugDescription)")
        }
        return s
    }
}
