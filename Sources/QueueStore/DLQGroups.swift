import Foundation
import Postgres

/// DLQ groups exactly as triage lists them (`groups()`): one queue and one error fingerprint
/// (error type plus normalised message, 15_triage.sql). Every failure has a fingerprint, so every
/// dead-letter job belongs to exactly one group, and acting on a group touches that group only.
extension DLQStore {
    public func jobs(inGroup queue: String, fingerprint: String, limit: Int = 1000) throws -> [DLQJob] {
        try list(DLQFilter(queue: queue, fingerprint: fingerprint), limit: max(1, min(limit, 100_000)))
    }

    /// The newest `limit` jobs of the group that died at or before `asOf`: the sample a requeue
    /// confirmation shows, taken from exactly the jobs the action will touch.
    public func sample(inGroup queue: String, fingerprint: String, asOf: Date, limit: Int = 5) throws -> [DLQJob] {
        try sample(DLQFilter(queue: queue, fingerprint: fingerprint), asOf: asOf, limit: limit)
    }

    /// The newest `limit` jobs a bulk action with this filter and `asOf` would touch.
    public func sample(_ filter: DLQFilter, asOf: Date, limit: Int = 5) throws -> [DLQJob] {
        let rows = try connection.run("""
            SELECT \(unsafeRaw: Self.jobColumns) FROM \(qt: "job_queue")
            WHERE status = 'dead_letter'
              AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
              AND (\(filter.errorType)::text IS NULL OR error_type = \(filter.errorType))
              AND (\(filter.fingerprint)::text IS NULL
                   OR coalesce(error_fingerprint, \(qt: "error_fingerprint")(error_type, error_message)) = \(filter.fingerprint))
              AND coalesce(last_error_at, created_at) <= \(asOf)
            ORDER BY last_error_at DESC NULLS LAST, id
            LIMIT \(max(1, min(limit, 100)))
            """)
        return try rows.map(Self.decodeJob)
    }

    /// How many jobs of the group died at or before `asOf`: the count a confirmation shows.
    public func count(inGroup queue: String, fingerprint: String, asOf: Date) throws -> Int {
        try count(DLQFilter(queue: queue, fingerprint: fingerprint), asOf: asOf)
    }

    /// Requeues the jobs of the group that died at or before `asOf` (what was counted), in
    /// batches under one audit row (which `undo_requeue` can undo), and returns the result.
    public func requeue(inGroup queue: String, fingerprint: String, resetAttempts: Bool, asOf: Date) throws -> BulkResult {
        try requeueAll(DLQFilter(queue: queue, fingerprint: fingerprint), resetAttempts: resetAttempts, asOf: asOf)
    }

    /// Deletes the jobs of the group that died at or before `asOf`; returns how many.
    public func delete(inGroup queue: String, fingerprint: String, asOf: Date) throws -> Int {
        try deleteAll(DLQFilter(queue: queue, fingerprint: fingerprint), asOf: asOf).affected
    }
}

extension DLQStore {
    /// The given jobs that are dead-letter jobs, newest failure first: a marked-jobs requeue's
    /// sample.
    public func jobs(ids: [UUID]) throws -> [DLQJob] {
        let rows = try connection.run("""
            SELECT \(unsafeRaw: Self.jobColumns) FROM \(qt: "job_queue")
            WHERE status = 'dead_letter' AND id = ANY(\(ids)::uuid[])
            ORDER BY last_error_at DESC NULLS LAST, id
            """)
        return try rows.map(Self.decodeJob)
    }
}
