import Foundation
import Postgres

/// Everything about one job, whatever its status: what an on-call engineer asks of a job id
/// found in a log ("did it run? what did it return? why was it cancelled?").
public struct JobInspection: Sendable, Equatable {
    public let id: UUID
    public let queue: String
    public let jobType: String
    public let status: String
    public let priority: Int
    public let attemptCount: Int
    public let maxAttempts: Int
    public let dedupKey: String?
    public let tenant: String?
    public let lockedBy: String?
    public let createdAt: Date
    public let runAt: Date
    public let startedAt: Date?
    public let completedAt: Date?
    public let expiresAt: Date?
    public let nextRetryAt: Date?
    public let processingMs: Int?
    /// 'operator' or 'expired' for a cancelled job.
    public let cancelReason: String?
    public let errorType: String?
    public let errorMessage: String?
    /// Pretty-printed by the server, like the dashboard's job detail.
    public let payloadJSON: String
    public let resultJSON: String?
    public let errorDetailsJSON: String?
}

extension JobStore {
    /// The job, or nil when no job has this id (never existed, or pruned by retention).
    public func inspect(id: UUID) throws -> JobInspection? {
        let rows = try connection.run("""
            SELECT id, queue, job_type, status, priority, attempt_count, max_attempts, dedup_key, tenant, locked_by,
                   created_at, run_at, started_at, completed_at, expires_at, next_retry_at, processing_time_ms,
                   cancel_reason, error_type, error_message, jsonb_pretty(payload) AS payload_json,
                   jsonb_pretty(result) AS result_json, jsonb_pretty(error_details) AS details_json
            FROM job_queue WHERE id = \(id)
            """)
        guard let r = rows.first else { return nil }
        return JobInspection(
            id: try r.decode("id"), queue: try r.decode("queue"), jobType: try r.decode("job_type"),
            status: try r.decode("status"), priority: try r.decode("priority"), attemptCount: try r.decode("attempt_count"),
            maxAttempts: try r.decode("max_attempts"), dedupKey: try r.decode("dedup_key"), tenant: try r.decode("tenant"),
            lockedBy: try r.decode("locked_by"), createdAt: try r.decode("created_at"), runAt: try r.decode("run_at"),
            startedAt: try r.decode("started_at"), completedAt: try r.decode("completed_at"),
            expiresAt: try r.decode("expires_at"), nextRetryAt: try r.decode("next_retry_at"),
            processingMs: try r.decode("processing_time_ms"), cancelReason: try r.decode("cancel_reason"),
            errorType: try r.decode("error_type"), errorMessage: try r.decode("error_message"),
            payloadJSON: try r.decode("payload_json"), resultJSON: try r.decode("result_json"),
            errorDetailsJSON: try r.decode("details_json"))
    }
}
