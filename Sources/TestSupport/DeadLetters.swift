import Foundation
import Postgres
import QueueStore

/// Dead-letters `n` new jobs of `queue` with error type `type`, the way a worker would
/// (`fail_job`, not retryable). nil: a dead job *without* an error type — fail_job always records
/// one, so such rows only come from outside it (data imported from an older queue, a manual
/// UPDATE); triage must still handle them.
@discardableResult
public func seedDeadLetters(_ conn: Connection, _ n: Int, queue: String = "emails", type: String?) throws -> [UUID] {
    let ids = try JobStore(connection: conn).enqueue((0..<n).map { _ in NewJob(queue: queue, type: "send") }).map(\.id)
    try conn.query("SELECT \(qt: "fail_job")(id, 'smtp down', \(type ?? "unknown"), NULL, false) FROM unnest(\(ids)::uuid[]) id")
    if type == nil { try conn.query("UPDATE \(qt: "job_queue") SET error_type = NULL WHERE id = ANY(\(ids)::uuid[])") }
    return ids
}

/// The distinct statuses of these jobs: `["pending"]` means every one of them is pending.
public func jobStatuses(_ conn: Connection, _ ids: [UUID]) throws -> Set<String> {
    Set(try conn.query("SELECT status FROM \(qt: "job_queue") WHERE id = ANY(\(ids)::uuid[])").map { try $0.decode("status") as String })
}
