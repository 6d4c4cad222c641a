import Foundation
import Postgres

/// Makes jobs look old without waiting: retention tests need finished jobs days old.
public enum JobAging {
    /// Makes every job of `queue` look created (and, if finished, finished) `seconds` ago, its
    /// time-ordered UUIDv7 id included (retention walks ids in time order), as if the clock had
    /// moved on. Call before a job has attempts: job_attempts references the id.
    public static func age(_ conn: Connection, queue: String, seconds: Int) throws {
        try conn.execute("""
            UPDATE job_queue SET
              id = encode(overlay(uuid_send(id) placing
                     substring(int8send((extract(epoch FROM now() - make_interval(secs => \(seconds))) * 1000)::bigint) FROM 3)
                     FROM 1 FOR 6), 'hex')::uuid,
              created_at = now() - make_interval(secs => \(seconds)),
              completed_at = CASE WHEN completed_at IS NULL THEN NULL ELSE now() - make_interval(secs => \(seconds)) END
            WHERE queue = \(queue)
            """)
    }
}
