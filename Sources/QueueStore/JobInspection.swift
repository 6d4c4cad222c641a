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
    /// When its last attempt failed (the DLQ's "failed 5m ago"); nil if none ever did.
    public let lastErrorAt: Date?
    public let processingMs: Int?
    /// 'operator' or 'expired' for a cancelled job.
    public let cancelReason: String?
    public let errorType: String?
    public let errorMessage: String?
    /// The jsonb as the server writes it (`::text`, one line): views lay it out with
    /// `BoundedJSON`, whose cost is bounded by this size whatever the nesting (the server's
    /// `jsonb_pretty` of 2,000 nested arrays is 16 MB).
    public let payloadJSON: String
    public let resultJSON: String?
    public let errorDetailsJSON: String?
    /// When an operator asked to stop it while it ran (it is 'processing' until its worker has).
    public let cancelRequestedAt: Date?
    /// The PostgreSQL backend its sql handler runs on, while it runs (`JobBackend`).
    public let handlerBackendPID: Int?

    /// Public so that views can be tested with fixed jobs, without a database.
    public init(id: UUID, queue: String, jobType: String, status: String, priority: Int = 0, attemptCount: Int,
                maxAttempts: Int, dedupKey: String? = nil, tenant: String? = nil, lockedBy: String? = nil,
                createdAt: Date, runAt: Date, startedAt: Date? = nil, completedAt: Date? = nil, expiresAt: Date? = nil,
                nextRetryAt: Date? = nil, lastErrorAt: Date? = nil, processingMs: Int? = nil, cancelReason: String? = nil,
                errorType: String? = nil, errorMessage: String? = nil, payloadJSON: String, resultJSON: String? = nil,
                errorDetailsJSON: String? = nil, cancelRequestedAt: Date? = nil, handlerBackendPID: Int? = nil) {
        self.id = id; self.queue = queue; self.jobType = jobType; self.status = status; self.priority = priority
        self.attemptCount = attemptCount; self.maxAttempts = maxAttempts; self.dedupKey = dedupKey; self.tenant = tenant
        self.lockedBy = lockedBy; self.createdAt = createdAt; self.runAt = runAt; self.startedAt = startedAt
        self.completedAt = completedAt; self.expiresAt = expiresAt; self.nextRetryAt = nextRetryAt
        self.lastErrorAt = lastErrorAt; self.processingMs = processingMs; self.cancelReason = cancelReason
        self.errorType = errorType; self.errorMessage = errorMessage; self.payloadJSON = payloadJSON
        self.resultJSON = resultJSON; self.errorDetailsJSON = errorDetailsJSON
        self.cancelRequestedAt = cancelRequestedAt; self.handlerBackendPID = handlerBackendPID
    }
}

/// A job id as a person types or pastes it, and what a refusal says. The CLI's `job show` and the
/// dashboard's `:job` read the same text the same way and refuse it with the same words.
public enum JobIDText {
    /// The id in `text`, ignoring surrounding blanks and quotes (ids pasted from a log line or a
    /// JSON document often carry them); nil when it is not a UUID.
    public static func parse(_ text: String) -> UUID? {
        UUID(uuidString: text.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"'`"))))
    }

    public static func notAJobID(_ text: String) -> String {
        "'\(SafeText.oneLine(String(text.prefix(60))))' is not a job id (a UUID such as 01a201e7-a38f-72ad-9bc7-bfa9eb24a81f, "
            + "or 4 or more of its hex digits, such as the short id bfa9eb24)"
    }

    /// Whether `text` can be part of a job id (`JobStore.lookUp`): 4 to 32 hex digits, dashes
    /// allowed, blanks and quotes around it ignored.
    public static func couldBePart(_ text: String) -> Bool {
        let digits = text.trimmingCharacters(in: CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\"'`")))
            .replacingOccurrences(of: "-", with: "")
        return (4...32).contains(digits.count) && digits.allSatisfy(\.isHexDigit)
    }

    /// Retention deletes finished jobs, so "no such job" may well be one that ran.
    public static func notFound(_ id: UUID) -> String {
        "no job \(id.uuidString.lowercased()) (never enqueued, or removed by its queue's retention)"
    }
}

extension JobStore {
    /// The job, or nil when no job has this id (never existed, or pruned by retention).
    public func inspect(id: UUID) throws -> JobInspection? {
        let rows = try connection.run("""
            SELECT id, queue, job_type, status, priority, attempt_count, max_attempts, dedup_key, tenant, locked_by,
                   created_at, run_at, started_at, completed_at, expires_at, next_retry_at, last_error_at, processing_time_ms,
                   cancel_reason, error_type, error_message, payload::text AS payload_json,
                   result::text AS result_json, error_details::text AS details_json,
                   -- 0020's columns through to_jsonb: NULL, not an error, on an install not migrated yet.
                   (to_jsonb(j) ->> 'cancel_requested_at')::timestamptz AS cancel_requested_at,
                   (to_jsonb(j) ->> 'handler_backend_pid')::int AS handler_backend_pid
            FROM \(qt: "job_queue") j WHERE id = \(id)
            """)
        guard let r = rows.first else { return nil }
        return JobInspection(
            id: try r.decode("id"), queue: try r.decode("queue"), jobType: try r.decode("job_type"),
            status: try r.decode("status"), priority: try r.decode("priority"), attemptCount: try r.decode("attempt_count"),
            maxAttempts: try r.decode("max_attempts"), dedupKey: try r.decode("dedup_key"), tenant: try r.decode("tenant"),
            lockedBy: try r.decode("locked_by"), createdAt: try r.decode("created_at"), runAt: try r.decode("run_at"),
            startedAt: try r.decode("started_at"), completedAt: try r.decode("completed_at"),
            expiresAt: try r.decode("expires_at"), nextRetryAt: try r.decode("next_retry_at"),
            lastErrorAt: try r.decode("last_error_at"), processingMs: try r.decode("processing_time_ms"), cancelReason: try r.decode("cancel_reason"),
            errorType: try r.decode("error_type"), errorMessage: try r.decode("error_message"),
            payloadJSON: try r.decode("payload_json"), resultJSON: try r.decode("result_json"),
            errorDetailsJSON: try r.decode("details_json"), cancelRequestedAt: try r.decode("cancel_requested_at"),
            handlerBackendPID: try r.decode("handler_backend_pid"))
    }
}
