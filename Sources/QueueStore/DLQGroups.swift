import Foundation
import Postgres

/// DLQ groups exactly as triage lists them (`groups()`): one queue and one error type, where a
/// nil error type is the group of jobs that *have no* error type. `DLQFilter` differs on purpose
/// (nil = any type, for the CLI's `--all`), so acting on the "(no type)" group through it would
/// touch every group of the queue. These functions match with `IS NOT DISTINCT FROM`.
extension DLQStore {
    public func jobs(inGroup queue: String, errorType: String?, limit: Int = 1000) throws -> [DLQJob] {
        let rows = try connection.run("""
            SELECT \(unsafeRaw: Self.jobColumns) FROM \(qt: "job_queue")
            WHERE status = 'dead_letter' AND queue = \(queue) AND error_type IS NOT DISTINCT FROM \(errorType)
            ORDER BY last_error_at DESC NULLS LAST, id
            LIMIT \(max(1, min(limit, 100_000)))
            """)
        return try rows.map(Self.decodeJob)
    }

    /// How many jobs of the group died at or before `asOf`: the count a confirmation shows.
    public func count(inGroup queue: String, errorType: String?, asOf: Date) throws -> Int {
        try connection.run("""
            SELECT count(*)::int FROM \(qt: "job_queue")
            WHERE status = 'dead_letter' AND queue = \(queue) AND error_type IS NOT DISTINCT FROM \(errorType)
              AND coalesce(last_error_at, created_at) <= \(asOf)
            """).scalar()
    }

    /// Requeues the jobs of the group that died at or before `asOf` (what was counted), and
    /// returns how many moved. A typed group goes through the batched, single-audit-row bulk
    /// path; the untyped group (rare: fail_job always records a type, so only rows written
    /// outside it lack one) by id, one audit row per chunk of ids.
    public func requeue(inGroup queue: String, errorType: String?, resetAttempts: Bool, asOf: Date) throws -> Int {
        if let errorType {
            return try requeueAll(DLQFilter(queue: queue, errorType: errorType), resetAttempts: resetAttempts, asOf: asOf).affected
        }
        return try forEachUntypedChunk(queue: queue, asOf: asOf) { try requeue(ids: $0, resetAttempts: resetAttempts) }
    }

    /// Deletes the jobs of the group that died at or before `asOf`; returns how many.
    public func delete(inGroup queue: String, errorType: String?, asOf: Date) throws -> Int {
        if let errorType {
            return try deleteAll(DLQFilter(queue: queue, errorType: errorType), asOf: asOf).affected
        }
        return try forEachUntypedChunk(queue: queue, asOf: asOf) { try delete(ids: $0) }
    }

    /// Walks the untyped group by id (keyset order), so a job the action skips (its dedup key is
    /// held by an active job) is never offered again and the loop always ends.
    private func forEachUntypedChunk(queue: String, asOf: Date, chunk: Int = 1000, _ act: ([UUID]) throws -> Int) throws -> Int {
        _ = try QueueConfigStore(connection: connection).get(queue)
        var after: UUID?
        var total = 0
        while true {
            let ids: [UUID] = try connection.run("""
                SELECT id FROM \(qt: "job_queue")
                WHERE status = 'dead_letter' AND queue = \(queue) AND error_type IS NULL
                  AND coalesce(last_error_at, created_at) <= \(asOf)
                  AND (\(after)::uuid IS NULL OR id > \(after))
                ORDER BY id LIMIT \(chunk)
                """).map { try $0.decode("id") }
            guard let last = ids.last else { return total }
            total += try act(ids)
            after = last
        }
    }
}
