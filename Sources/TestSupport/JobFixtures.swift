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

    /// The job explorer's fixture (plain names: the caller's search_path holds the schema).
    /// 420 jobs, one a minute going back 7 hours; 7 states in turn, 2 queues, 3 types, tenants
    /// (some none), dedup keys, and four payload shapes; one job is ana@example.com's.
    public static func mixed(_ conn: Connection) throws {
        try conn.executeScript("""
            INSERT INTO queues (name) VALUES ('emails'), ('sync') ON CONFLICT DO NOTHING;
            INSERT INTO workers (id, host, pid, queues, concurrency) VALUES
              ('host-1:11', 'host-1', 11, '{emails}', 4), ('host-2:22', 'host-2', 22, '{sync}', 4);
            INSERT INTO job_queue (id, queue, job_type, payload, status, run_at, attempt_count, next_retry_at,
                                   dedup_key, tenant, locked_by, heartbeat_at, created_at, started_at, completed_at,
                                   error_message, error_type, last_error_at, cancel_reason)
            SELECT encode(overlay(uuid_send(gen_random_uuid()) PLACING
                     substring(int8send((extract(epoch FROM c) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid,
                   CASE WHEN g % 2 = 0 THEN 'emails' ELSE 'sync' END,
                   (ARRAY['send_email', 'sync_store', 'send_campaign'])[g % 3 + 1],
                   CASE WHEN g = 123 THEN '{"to": "ana@example.com", "order": {"id": 123}}'::jsonb
                        WHEN g % 4 = 0 THEN jsonb_build_object('to', 'user' || g || '@example.com', 'order', jsonb_build_object('id', g))
                        WHEN g % 4 = 1 THEN jsonb_build_object('to', 'user' || g || '@example.com', 'order', jsonb_build_object('id', g::text), 'coupon', null)
                        WHEN g % 4 = 2 THEN jsonb_build_object('coupon', 'X' || g)
                        ELSE '{}'::jsonb END,
                   (ARRAY['pending', 'pending', 'pending', 'processing', 'completed', 'cancelled', 'dead_letter'])[s + 1],
                   CASE s WHEN 1 THEN now() + interval '1 hour' WHEN 2 THEN now() + interval '10 minutes' ELSE c END,
                   CASE s WHEN 2 THEN 2 WHEN 6 THEN 5 ELSE 0 END,
                   CASE s WHEN 2 THEN now() + interval '10 minutes' END,
                   CASE WHEN g % 11 = 0 THEN 'store:' || g END,
                   CASE WHEN g % 5 = 0 THEN NULL ELSE 'shop-' || (g % 4) END,
                   CASE s WHEN 3 THEN (ARRAY['host-1:11', 'host-2:22'])[g % 2 + 1] END,
                   CASE s WHEN 3 THEN now() END,
                   c,
                   CASE WHEN s IN (3, 4) THEN c + interval '1 second' END,
                   CASE WHEN s IN (4, 5) THEN c + interval '2 seconds' END,
                   CASE WHEN s IN (2, 6) THEN CASE WHEN g % 2 = 0 THEN 'SMTP 550 mailbox unavailable ' || g ELSE 'timeout after 30 s' END END,
                   CASE WHEN s IN (2, 6) THEN CASE WHEN g % 2 = 0 THEN 'smtp_error' ELSE 'timeout' END END,
                   CASE WHEN s IN (2, 6) THEN c + interval '3 seconds' END,
                   CASE WHEN s = 5 THEN CASE WHEN g % 2 = 0 THEN 'operator' ELSE 'expired' END END
            FROM generate_series(1, 420) g,
                 LATERAL (SELECT now() - make_interval(secs => (420 - g) * 60 + 30) AS c, g % 7 AS s) x;
            ANALYZE job_queue;
            """)
    }
}
