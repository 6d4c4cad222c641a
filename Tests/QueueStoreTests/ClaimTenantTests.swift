import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// claim_jobs returns each job's tenant as its last column (0018), on every claim path: the
/// plain one, a concurrency-limited queue, and a queue with caps per tenant (_claim_tenants).
/// The worker logs it with every job event (WorkerLogFormatTests).
@Suite struct ClaimTenantTests {
    @Test func everyClaimPathReturnsTheTenant() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let queues = QueueConfigStore(connection: conn)
            for queue in ["plain", "limited", "capped"] {
                _ = try jobs.enqueue([NewJob(queue: queue, type: "t", tenant: "shop-9"),
                                      NewJob(queue: queue, type: "t", tenant: "shop\u{202e}\"x\""),
                                      NewJob(queue: queue, type: "t")])
            }
            _ = try queues.setConcurrency("limited", 10)
            _ = try queues.update("capped", settings: JSONText(#"{"tenant_concurrency_limit": 5}"#))
            for queue in ["plain", "limited", "capped"] {
                let claimed = try jobs.claim(worker: "w", queues: [queue], max: 10)
                #expect(claimed.map(\.tenant).sorted { ($0 ?? "") < ($1 ?? "") } == [nil, "shop-9", "shop\u{202e}\"x\""], "\(queue)")
            }
            // The column is the last one, so `SELECT *` readers see the old columns where they were.
            let columns: [String] = try conn.query("SELECT unnest(proargnames[4:]) FROM pg_proc WHERE proname = 'claim_jobs'")
                .map { try $0.decode(0) }
            #expect(columns == ["id", "queue", "job_type", "payload", "attempt_count", "max_attempts", "priority", "created_at", "tenant"])
        }
    }

    /// A worker newer than its database (claim_jobs from before 0018, until `queuetop migrate`
    /// runs) still claims: the same jobs, without a tenant.
    @Test func aClaimJobsWithoutTheTenantColumnStillClaims() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("DROP FUNCTION \(qt: "claim_jobs")(text, text[], int)")
            try conn.execute("""
                CREATE FUNCTION \(qt: "claim_jobs")(worker_id text, queues text[], max_jobs int)
                RETURNS TABLE (id uuid, queue text, job_type text, payload jsonb, attempt_count int,
                               max_attempts int, priority int, created_at timestamptz)
                LANGUAGE sql AS $$
                  SELECT c.id, c.queue, c.job_type, c.payload, c.attempt_count, c.max_attempts, c.priority, c.created_at
                  FROM \(qt: "_claim")(worker_id, queues, max_jobs) c
                $$
                """)
            let jobs = JobStore(connection: conn)
            let id = try jobs.enqueue(NewJob(queue: "plain", type: "t", tenant: "shop-9")).id
            let claimed = try jobs.claim(worker: "w", queues: ["plain"], max: 10)
            #expect(claimed.map(\.id.uuid) == [id] && claimed.first?.tenant == nil)
        }
    }
}
