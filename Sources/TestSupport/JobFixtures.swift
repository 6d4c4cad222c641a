import Foundation
import Postgres
import QueueStore

/// Jobs in the states tests start from, made the way production makes them (through the SQL
/// API), plus the one thing production cannot do quickly: age.
public enum JobFixtures {
    /// `n` jobs of `queue` sent to the DLQ by a non-retryable `fail_job` of error type `type`.
    @discardableResult
    public static func deadLetters(_ conn: Connection, _ n: Int, queue: String = "emails", type: String = "smtp_error") throws -> [UUID] {
        let ids = try JobStore(connection: conn).enqueue((0..<n).map { _ in NewJob(queue: queue, type: "send") }).map(\.id)
        try conn.execute("SELECT \(qt: "fail_job")(id, 'down', \(type), NULL, false) FROM unnest(\(ids)::uuid[]) id")
        return ids
    }


    /// Makes every job of `queue` look created (and, if finished, finished) `seconds` ago, its
    /// time-ordered UUIDv7 id included (retention walks ids in time order), as if the clock had
    /// moved on. Call before a job has attempts: job_attempts references the id.
    public static func age(_ conn: Connection, queue: String, seconds: Int) throws {
        try conn.execute("""
            UPDATE \(qt: "job_queue") SET
              id = encode(overlay(uuid_send(id) placing
                     substring(int8send((extract(epoch FROM now() - make_interval(secs => \(seconds))) * 1000)::bigint) FROM 3)
                     FROM 1 FOR 6), 'hex')::uuid,
              created_at = now() - make_interval(secs => \(seconds)),
              completed_at = CASE WHEN completed_at IS NULL THEN NULL ELSE now() - make_interval(secs => \(seconds)) END
            WHERE queue = \(queue)
            """)
    }
}
