import Foundation
import Postgres

/// A job to enqueue. `payload` must be JSON text; nil fields take the queue's or the SQL defaults.
public struct NewJob: Sendable, Equatable {
    public var queue: String
    public var type: String
    public var payload: JSONText
    public var priority: Int?
    public var runAt: Date?
    public var dedupKey: String?
    public var maxAttempts: Int?
    /// With a dedup key: a job of that key that completed within this many seconds is answered
    /// with its stored result instead of queueing work (cache-first).
    public var uniqueForSeconds: Int?
    /// A pending job past this instant is cancelled as expired, never run.
    public var expiresAt: Date?
    /// Whose job this is, for the queue's per-tenant caps.
    public var tenant: String?

    public init(queue: String, type: String, payload: JSONText = JSONText("{}"), priority: Int? = nil,
                runAt: Date? = nil, dedupKey: String? = nil, maxAttempts: Int? = nil,
                uniqueForSeconds: Int? = nil, expiresAt: Date? = nil, tenant: String? = nil) {
        self.queue = queue; self.type = type; self.payload = payload; self.priority = priority
        self.runAt = runAt; self.dedupKey = dedupKey; self.maxAttempts = maxAttempts
        self.uniqueForSeconds = uniqueForSeconds; self.expiresAt = expiresAt; self.tenant = tenant
    }
}

/// The outcome of enqueueing one job: a new job, the active job with the same dedup key, or
/// (with `uniqueForSeconds`) the job of that key that completed within the period and its result.
public struct EnqueueResult: Sendable, Equatable {
    public let id: UUID
    public let deduplicated: Bool
    /// 'pending' for a new job, the active twin's status, or 'completed' for a cache hit.
    public let status: String
    /// The completed job's stored result, on a cache hit (nil when it returned nothing).
    public let result: JSONText?

    public init(id: UUID, deduplicated: Bool, status: String = "pending", result: JSONText? = nil) {
        self.id = id; self.deduplicated = deduplicated; self.status = status; self.result = result
    }

    /// The answer came from a completed job: no work was queued.
    public var isCacheHit: Bool { status == "completed" }
}

/// A job handed to a worker by `claim_jobs`. The running attempt is `attemptCount + 1`.
public struct ClaimedJob: Sendable, Equatable {
    public let id: JobID
    public let queue: String
    public let jobType: String
    public let payload: JSONText
    public let attemptCount: Int
    public let maxAttempts: Int
    public let priority: Int
    public let createdAt: Date
    /// The tenant the producer gave (nil: none). claim_jobs returns it as its last column (0018).
    public let tenant: String?
}

/// One failed job for `fail_jobs`. retryAfterSeconds is a minimum wait (e.g. HTTP Retry-After).
public struct JobFailure: Sendable, Equatable {
    public var id: JobID
    public var message: String
    public var errorType: String
    public var details: JSONText?
    public var retryable: Bool
    public var retryAfterSeconds: Int?

    public init(id: JobID, message: String, errorType: String, details: JSONText? = nil,
                retryable: Bool = true, retryAfterSeconds: Int? = nil) {
        self.id = id; self.message = message; self.errorType = errorType; self.details = details
        self.retryable = retryable; self.retryAfterSeconds = retryAfterSeconds
    }
}

/// Enqueue, the worker hot path and single-job actions, over the SQL functions of 0001.
public struct JobStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    public func enqueue(_ job: NewJob) throws -> EnqueueResult {
        guard let result = try enqueue([job]).first else { throw QueueStoreError.database("enqueue_jobs returned nothing") }
        return result
    }

    /// Enqueues a batch in one statement; results are in input order.
    public func enqueue(_ jobs: [NewJob]) throws -> [EnqueueResult] {
        guard !jobs.isEmpty else { throw QueueStoreError.invalidInput("nothing to enqueue: the batch is empty") }
        let rows = try connection.run("""
            SELECT ord, id, deduplicated, status, result FROM \(qt: "enqueue_jobs")(\(JSONText(try Self.encode(jobs)))::jsonb) ORDER BY ord
            """)
        return try rows.map {
            EnqueueResult(id: try $0.decode("id"), deduplicated: try $0.decode("deduplicated"),
                          status: try $0.decode("status"), result: try $0.decode("result"))
        }
    }

    public func claim(worker: String, queues: [String]?, max: Int) throws -> [ClaimedJob] {
        // `*`, read by position, and `tenant` only when there is one: a worker newer than its
        // database (a claim_jobs from before 0018, until `queuetop migrate` runs, which a running
        // worker must keep serving; LiveSchemaMoveTests) claims the same 8 columns and logs its
        // job events without the tenant. 0018 added the column last for this.
        let rows = try connection.run("""
            SELECT * FROM \(qt: "claim_jobs")(\(worker), \(queues)::text[], \(max))
            """)
        let tenantColumn = rows.columns.firstIndex(of: "tenant")
        var jobs: [ClaimedJob] = []
        jobs.reserveCapacity(rows.count)
        var unreadable: Error?
        for row in rows {
            do {
                jobs.append(ClaimedJob(
                    id: try row.decode(0), queue: try row.decode(1), jobType: try row.decode(2),
                    payload: try row.decode(3), attemptCount: try row.decode(4), maxAttempts: try row.decode(5),
                    priority: try row.decode(6), createdAt: try row.decode(7),
                    tenant: try tenantColumn.flatMap { try row.decode($0, as: String?.self) }))
            } catch {
                unreadable = unreadable ?? error
            }
        }
        if let unreadable {
            // A row that cannot be read (an id that is not a uuid) is never run under a made-up
            // id. The batch fails: the rows read are handed back at once (release_jobs, not an
            // attempt); the unreadable one stays claimed by this worker, is never heartbeated, and
            // rescue_stale_jobs returns it to pending after its visibility timeout (worker_lost).
            if !jobs.isEmpty { _ = try? release(worker: worker, ids: jobs.map(\.id)) }
            throw unreadable
        }
        return jobs
    }

    /// Returns how many of the jobs this worker still held and completed. `results` (JSON text,
    /// parallel to ids, nil = none) are stored on the jobs; over 64 KiB is replaced by a note.
    @discardableResult
    public func complete(worker: String, ids: [JobID], processingMs: [Int?]? = nil, results: [JSONText?]? = nil) throws -> Int {
        try connection.run("""
            SELECT \(qt: "complete_jobs")(\(worker), \(ids)::uuid[], \(processingMs)::int[], \(results)::jsonb[])
            """).scalar()
    }

    /// Cancels up to `max` pending jobs past their expiry (reason 'expired', one audit row per
    /// queue); returns how many.
    @discardableResult
    public func expire(max: Int = 1000) throws -> Int {
        try connection.run("SELECT \(qt: "expire_jobs")(\(max))").scalar()
    }

    @discardableResult
    public func fail(worker: String, _ failures: [JobFailure]) throws -> Int {
        guard !failures.isEmpty else { return 0 }
        return try connection.run("""
            SELECT \(qt: "fail_jobs")(\(worker), \(failures.map(\.id))::uuid[], \(failures.map(\.message))::text[],
                             \(failures.map(\.errorType))::text[], \(failures.map(\.details))::jsonb[],
                             \(failures.map(\.retryable))::boolean[], \(failures.map(\.retryAfterSeconds))::int[])
            """).scalar()
    }

    /// The seed's `fail_job` on one pending or processing job; returns its new status.
    @discardableResult
    public func failJob(id: UUID, message: String, errorType: String, details: JSONText? = nil,
                        retryable: Bool = true) throws -> String {
        try connection.run("SELECT \(qt: "fail_job")(\(id), \(message), \(errorType), \(details)::jsonb, \(retryable))").scalar()
    }

    @discardableResult
    public func release(worker: String, ids: [JobID]) throws -> Int {
        try connection.run("SELECT \(qt: "release_jobs")(\(worker), \(ids)::uuid[])").scalar()
    }

    @discardableResult
    public func heartbeat(worker: String, ids: [JobID]) throws -> Int {
        try connection.run("SELECT \(qt: "heartbeat_jobs")(\(worker), \(ids)::uuid[])").scalar()
    }

    @discardableResult
    public func rescueStale(max: Int = 1000) throws -> Int {
        try connection.run("SELECT \(qt: "rescue_stale_jobs")(\(max))").scalar()
    }

    public func cancel(id: UUID) throws {
        try connection.run("SELECT \(qt: "cancel_job")(\(id))")
    }

    /// Deletes up to `batchSize` completed/cancelled jobs past their queue's retention.
    @discardableResult
    public func prune(batchSize: Int = 1000) throws -> Int {
        try connection.run("SELECT \(qt: "prune_completed_jobs")(\(batchSize))").scalar()
    }

    /// The JSON array `enqueue_jobs` takes. Payloads are checked here so that the error names the job.
    static func encode(_ jobs: [NewJob]) throws -> String {
        var parts: [String] = []
        parts.reserveCapacity(jobs.count)
        for (index, job) in jobs.enumerated() {
            // Not JSONSerialization: its depth limit refuses valid JSON (2,000 nested arrays).
            guard BoundedJSON.isValid(job.payload.raw) else {
                throw QueueStoreError.invalidInput("payload of job \(index + 1) is not valid JSON: \(job.payload.raw.prefix(80))")
            }
            var fields = ["\"queue\":\(jsonString(job.queue))", "\"type\":\(jsonString(job.type))", "\"payload\":\(job.payload.raw)"]
            if let p = job.priority { fields.append("\"priority\":\(p)") }
            if let r = job.runAt { fields.append("\"run_at\":\(jsonString(PostgresTimestamp.format(r)))") }
            if let k = job.dedupKey { fields.append("\"dedup_key\":\(jsonString(k))") }
            if let m = job.maxAttempts { fields.append("\"max_attempts\":\(m)") }
            if let u = job.uniqueForSeconds { fields.append("\"unique_for_s\":\(u)") }
            if let e = job.expiresAt { fields.append("\"expires_at\":\(jsonString(PostgresTimestamp.format(e)))") }
            if let t = job.tenant { fields.append("\"tenant\":\(jsonString(t))") }
            parts.append("{" + fields.joined(separator: ",") + "}")
        }
        return "[" + parts.joined(separator: ",") + "]"
    }

    static func jsonString(_ s: String) -> String { JSONText.string(s).raw }
}
