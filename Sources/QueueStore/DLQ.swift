import Foundation
import Postgres

/// Which dead-letter jobs an action targets: nil fields match everything. A fingerprint names
/// one error group (with the queue): error type plus normalised message (docs/TRIAGE.md).
public struct DLQFilter: Sendable, Equatable {
    public var queue: String?
    public var errorType: String?
    public var fingerprint: String?
    public init(queue: String? = nil, errorType: String? = nil, fingerprint: String? = nil) {
        self.queue = queue; self.errorType = errorType; self.fingerprint = fingerprint
    }
}

public struct DLQJob: Sendable, Equatable {
    public let id: UUID
    public let queue: String
    public let jobType: String
    public let errorType: String?
    public let errorMessage: String?
    public let attemptCount: Int
    public let maxAttempts: Int
    public let lastErrorAt: Date?
    public let createdAt: Date
}

/// Dead-letter jobs of one queue and error fingerprint (error type plus the message with its
/// variable parts normalised): what broke, how many, since when, and where triage stands.
public struct DLQGroup: Sendable, Equatable {
    public let queue: String
    public let errorType: String?
    public let count: Int
    public let firstErrorAt: Date?
    public let lastErrorAt: Date?
    public let sampleMessage: String?
    /// 12 hex digits; with the queue, the group's key.
    public let fingerprint: String
    /// The message with numbers, ids, e-mails, query strings and quoted strings as <n>, <uuid>…
    public let pattern: String
    public let lifecycle: ErrorGroupLifecycle

    public init(queue: String, errorType: String?, count: Int, firstErrorAt: Date?, lastErrorAt: Date?,
                sampleMessage: String?, fingerprint: String = "", pattern: String? = nil,
                lifecycle: ErrorGroupLifecycle = ErrorGroupLifecycle()) {
        self.queue = queue; self.errorType = errorType; self.count = count; self.firstErrorAt = firstErrorAt
        self.lastErrorAt = lastErrorAt; self.sampleMessage = sampleMessage; self.fingerprint = fingerprint
        self.pattern = pattern ?? sampleMessage ?? ""; self.lifecycle = lifecycle
    }
}

/// The result of a bulk action done in batches, recorded as one audit row.
public struct BulkResult: Sendable, Equatable {
    public let affected: Int
    public let batches: Int
    public let auditID: Int64
}

/// DLQ triage: list, group, requeue and delete, over the SQL functions of 0001.
public struct DLQStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// Fingerprint filters use the stored fingerprint, computed on the fly for a row from before
    /// 0021 that the backfill has not reached yet (as the SQL batch functions do).
    public func list(_ filter: DLQFilter = DLQFilter(), limit: Int = 100) throws -> [DLQJob] {
        try requireQueue(filter.queue)
        let rows = try connection.run("""
            SELECT \(unsafeRaw: Self.jobColumns)
            FROM \(qt: "job_queue")
            WHERE status = 'dead_letter'
              AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
              AND (\(filter.errorType)::text IS NULL OR error_type = \(filter.errorType))
              AND (\(filter.fingerprint)::text IS NULL OR coalesce(error_fingerprint, \(qt: "error_fingerprint")(error_type, error_message)) = \(filter.fingerprint))
            ORDER BY last_error_at DESC NULLS LAST, id
            LIMIT \(max(1, min(limit, 100000)))
            """)
        return try rows.map(Self.decodeJob)
    }

    /// The columns `decodeJob` reads, for every query that lists dead-letter jobs.
    static let jobColumns = "id, queue, job_type, error_type, error_message, attempt_count, max_attempts, last_error_at, created_at"

    static func decodeJob(_ row: Row) throws -> DLQJob {
        DLQJob(id: try row.decode("id"), queue: try row.decode("queue"), jobType: try row.decode("job_type"),
               errorType: try row.decode("error_type"), errorMessage: try row.decode("error_message"),
               attemptCount: try row.decode("attempt_count"), maxAttempts: try row.decode("max_attempts"),
               lastErrorAt: try row.decode("last_error_at"), createdAt: try row.decode("created_at"))
    }

    /// The DLQ's error groups (queue and fingerprint), biggest first, with each group's
    /// lifecycle as the calling database role sees it (dlq_error_groups, 15_triage.sql).
    public func groups(queue: String? = nil) throws -> [DLQGroup] {
        try requireQueue(queue)
        let rows = try connection.run("SELECT * FROM \(qt: "dlq_error_groups")(\(queue))")
        return try rows.map {
            DLQGroup(queue: try $0.decode("queue"), errorType: try $0.decode("error_type"), count: try $0.decode("count"),
                     firstErrorAt: try $0.decode("first_error_at"), lastErrorAt: try $0.decode("last_error_at"),
                     sampleMessage: try $0.decode("sample_message"), fingerprint: try $0.decode("fingerprint"),
                     pattern: try $0.decode("pattern"), lifecycle: try ErrorGroupLifecycle.decode($0))
        }
    }

    /// How many jobs a bulk action with this filter and `asOf` would touch: the preview an operator
    /// confirms. Pass the same `asOf` to the action so it touches exactly these.
    /// An unknown queue in the filter is an error (a typo must not preview "0 jobs").
    public func count(_ filter: DLQFilter, asOf: Date) throws -> Int {
        try requireQueue(filter.queue)
        return try connection.run("""
            SELECT count(*)::int FROM \(qt: "job_queue")
            WHERE status = 'dead_letter'
              AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
              AND (\(filter.errorType)::text IS NULL OR error_type = \(filter.errorType))
              AND (\(filter.fingerprint)::text IS NULL OR coalesce(error_fingerprint, \(qt: "error_fingerprint")(error_type, error_message)) = \(filter.fingerprint))
              AND coalesce(last_error_at, created_at) <= \(asOf)
            """).scalar()
    }

    /// The server's clock, so a preview's `asOf` and the action agree even when clocks differ.
    public func now() throws -> Date { try connection.run("SELECT now()").scalar() }

    /// The seed's `requeue_dlq_job`: refuses a job that is not dead_letter, with the reason.
    public func requeue(id: UUID, resetAttempts: Bool = true) throws {
        try connection.run("SELECT \(qt: "requeue_dlq_job")(\(id), \(resetAttempts))")
    }

    /// Requeues marked jobs; ids no longer in the DLQ are skipped. Returns how many moved.
    public func requeue(ids: [UUID], resetAttempts: Bool = true) throws -> Int {
        try connection.run("SELECT \(qt: "requeue_dlq_jobs")(\(ids)::uuid[], \(resetAttempts))").scalar()
    }

    /// Requeues every dead_letter job matching `filter` whose last error is at or before `asOf`,
    /// in short batches (each its own transaction), as one audited action.
    public func requeueAll(_ filter: DLQFilter, resetAttempts: Bool = true, asOf: Date, batchSize: Int = 1000,
                           progress: (Int) -> Void = { _ in }) throws -> BulkResult {
        try inBatches(action: "dlq.requeue", filter, asOf: asOf, batchSize: batchSize, progress: progress) { audit in
            "SELECT \(qt: "requeue_dlq_batch")(\(filter.queue), \(filter.errorType), \(resetAttempts), \(asOf), \(batchSize), \(audit), \(filter.fingerprint))"
        }
    }

    /// The ids that are not dead-letter jobs, in the order given, with their status (nil: no
    /// such job): what `delete(ids:)` would skip, for a command to say so before it acts.
    public func notDead(ids: [UUID]) throws -> [(id: UUID, status: String?)] {
        let rows = try connection.run("""
            SELECT i.id, j.status FROM unnest(\(ids)::uuid[]) WITH ORDINALITY AS i(id, n)
            LEFT JOIN \(qt: "job_queue") j ON j.id = i.id
            WHERE j.status IS DISTINCT FROM 'dead_letter' ORDER BY i.n
            """)
        return try rows.map { (try $0.decode("id"), try $0.decode("status")) }
    }

    /// Deletes the given ids that are dead-letter jobs (the others are skipped) and returns how
    /// many went; one audit row when any did, none when none did.
    public func delete(ids: [UUID]) throws -> Int {
        try connection.run("SELECT \(qt: "delete_dlq_jobs")(\(ids)::uuid[])").scalar()
    }

    public func deleteAll(_ filter: DLQFilter, asOf: Date, batchSize: Int = 1000,
                          progress: (Int) -> Void = { _ in }) throws -> BulkResult {
        try inBatches(action: "dlq.delete", filter, asOf: asOf, batchSize: batchSize, progress: progress) { audit in
            "SELECT \(qt: "delete_dlq_batch")(\(filter.queue), \(filter.errorType), \(asOf), \(batchSize), \(audit), \(filter.fingerprint))"
        }
    }

    /// One loop for every batched DLQ action: open the audit row, run batches until one does
    /// nothing. A unique-key race with a concurrent enqueue fails one batch; it is retried.
    private func inBatches(action: String, _ filter: DLQFilter, asOf: Date, batchSize: Int,
                           progress: (Int) -> Void, batch: (Int64) -> Query) throws -> BulkResult {
        guard (1...100_000).contains(batchSize) else {
            throw QueueStoreError.invalidInput("batch size must be between 1 and 100000, got \(batchSize)")
        }
        try requireQueue(filter.queue)
        let filterJSON = "{\"queue\":\(filter.queue.map(JobStore.jsonString) ?? "null"),"
            + "\"error_type\":\(filter.errorType.map(JobStore.jsonString) ?? "null"),"
            + (filter.fingerprint.map { "\"fingerprint\":\(JobStore.jsonString($0))," } ?? "")
            + "\"as_of\":\(JobStore.jsonString(PostgresTimestamp.format(asOf)))}"
        let auditID = try AuditStore(connection: connection).begin(action: action, filter: JSONText(filterJSON))
        var total = 0, batches = 0, conflicts = 0
        while true {
            let n: Int
            do {
                // Up to 100 000 rows with no statement timeout: not cut by the liveness bound.
                n = try connection.withPatience(.batch) { try connection.run(batch(auditID)).scalar() }
            } catch QueueStoreError.database(let message) where message.contains("job_queue_dedup_idx") && conflicts < 3 {
                conflicts += 1
                continue
            }
            batches += 1
            total += n
            progress(total)
            if n == 0 { break }
        }
        return BulkResult(affected: total, batches: batches, auditID: auditID)
    }

    private func requireQueue(_ name: String?) throws {
        if let name { _ = try QueueConfigStore(connection: connection).get(name) }
    }

    /// Every failed attempt of a job, oldest first: the history triage shows.
    public func attempts(jobID: UUID) throws -> [(attempt: Int, errorType: String?, message: String?, worker: String?, failedAt: Date)] {
        let rows = try connection.run("""
            SELECT attempt, error_type, error_message, worker, failed_at FROM \(qt: "job_attempts")
            WHERE job_id = \(jobID) ORDER BY id
            """)
        return try rows.map { (try $0.decode("attempt"), try $0.decode("error_type"), try $0.decode("error_message"),
                               try $0.decode("worker"), try $0.decode("failed_at")) }
    }
}
