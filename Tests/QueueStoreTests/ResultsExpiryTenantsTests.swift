import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// Migration 0010 at the SQL level: unique-for-a-period with stored results, stale-job expiry and
/// per-tenant caps. The pool-level versions (real handlers) are in WorkersTests/SeedFeaturePoolTests.
@Suite struct ResultsExpiryTenantsTests {
    // MARK: unique for a period

    @Test func aKeyCompletedWithinItsPeriodAnswersWithTheJobAndItsResultAndQueuesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let sync = NewJob(queue: "sync", type: "sync_store", dedupKey: "store:7", uniqueForSeconds: 2)
            let first = try jobs.enqueue(sync)
            #expect(!first.deduplicated && first.status == "pending" && first.result == nil)
            // While it is pending, the usual dedup answers (no result yet).
            let whilePending = try jobs.enqueue(sync)
            #expect(whilePending.id == first.id && whilePending.deduplicated && whilePending.status == "pending")

            let claimed = try jobs.claim(worker: "w", queues: ["sync"], max: 5)
            #expect(claimed.map(\.id) == [JobID(first.id)])
            try jobs.complete(worker: "w", ids: [JobID(first.id)], results: [JSONText(#"{"orders": 42}"#)])

            let hit = try jobs.enqueue(sync)
            #expect(hit.id == first.id && hit.deduplicated && hit.isCacheHit)
            #expect(hit.result == JSONText(#"{"orders": 42}"#))
            #expect(try conn.query("SELECT count(*)::int FROM job_queue").scalar(Int.self) == 1)

            // Without unique_for_s the same key queues work again: the period is the caller's choice.
            let plain = try jobs.enqueue(NewJob(queue: "sync", type: "sync_store", dedupKey: "store:7"))
            #expect(!plain.deduplicated && plain.id != first.id)
            try jobs.cancel(id: plain.id)

            // Past the period (server time), a new job is queued.
            Thread.sleep(forTimeInterval: 2.2)
            let after = try jobs.enqueue(sync)
            #expect(!after.deduplicated && after.id != first.id && after.status == "pending")
        }
    }

    @Test func theNewestCompletedJobAnswersAndTheActiveOneIsReturnedWhenNoneIsFresh() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            for orders in [1, 2] {
                let id = try jobs.enqueue(NewJob(queue: "sync", type: "s", dedupKey: "k")).id
                _ = try jobs.claim(worker: "w", queues: ["sync"], max: 1)
                try jobs.complete(worker: "w", ids: [JobID(id)], results: [JSONText("{\"orders\": \(orders)}")])
            }
            let hit = try jobs.enqueue(NewJob(queue: "sync", type: "s", dedupKey: "k", uniqueForSeconds: 3600))
            #expect(hit.result == JSONText(#"{"orders": 2}"#))
            // A batch: two jobs with the same fresh key both hit; a different key queues one job.
            let batch = try jobs.enqueue([NewJob(queue: "sync", type: "s", dedupKey: "k", uniqueForSeconds: 60),
                                          NewJob(queue: "sync", type: "s", dedupKey: "other", uniqueForSeconds: 60),
                                          NewJob(queue: "sync", type: "s", dedupKey: "k", uniqueForSeconds: 60)])
            #expect(batch.map(\.isCacheHit) == [true, false, true])
            #expect(batch[1].status == "pending" && !batch[1].deduplicated)
        }
    }

    @Test func aResultOver64KiBIsNotStoredButTheJobCompletes() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let id = try jobs.enqueue(NewJob(queue: "q", type: "t")).id
            _ = try jobs.claim(worker: "w", queues: ["q"], max: 1)
            let big = JSONText.string(String(repeating: "x", count: 70_000))
            #expect(try jobs.complete(worker: "w", ids: [JobID(id)], results: [big]) == 1)
            let row = try conn.query("SELECT status, result->>'result_not_stored' AS why FROM job_queue WHERE id = \(id)")
            #expect(try row.first?.decode("status", as: String.self) == "completed")
            #expect(try row.first?.decode("why", as: String?.self) == "larger than 64 KiB")
        }
    }

    @Test func badUniqueExpiryAndTenantInputIsRefusedAndChangesNothing() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let serverNow: Date = try conn.query("SELECT now()").scalar()
            let bad: [(NewJob, String)] = [
                (NewJob(queue: "q", type: "t", uniqueForSeconds: 60), "no dedup_key"),
                (NewJob(queue: "q", type: "t", dedupKey: "k", uniqueForSeconds: 0), "unique_for_s must be"),
                (NewJob(queue: "q", type: "t", expiresAt: serverNow.addingTimeInterval(-5)), "not after both now"),
                (NewJob(queue: "q", type: "t", runAt: serverNow.addingTimeInterval(600),
                        expiresAt: serverNow.addingTimeInterval(60)), "not after both now and its run_at"),
                (NewJob(queue: "q", type: "t", tenant: ""), "tenant key"),
                (NewJob(queue: "q", type: "t", tenant: "a\u{7}b"), "tenant key"),
            ]
            for (job, message) in bad {
                // In a batch behind a good job: the whole batch is refused.
                #expect(throws: QueueStoreError.self) { try jobs.enqueue([NewJob(queue: "q", type: "ok"), job]) }
                do { _ = try jobs.enqueue(job) } catch { #expect("\(error)".contains(message), "\(error)") }
            }
            #expect(try conn.query("SELECT count(*)::int FROM job_queue").scalar(Int.self) == 0)
        }
    }

    // MARK: expiry

    @Test func anExpiredJobIsNeverClaimedAndTheExpirerCancelsItWithAnAuditRow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = JobStore(connection: conn)
            let serverNow: Date = try conn.query("SELECT now()").scalar()
            let stale = try jobs.enqueue((0..<5).map { _ in
                NewJob(queue: "campaign", type: "send", priority: 10, expiresAt: serverNow.addingTimeInterval(1))
            }).map(\.id)
            let fresh = try jobs.enqueue(NewJob(queue: "campaign", type: "send")).id
            Thread.sleep(forTimeInterval: 1.2)
            // Before any expirer ran: the claim skips the expired jobs although they rank first.
            #expect(try jobs.claim(worker: "w", queues: ["campaign"], max: 10).map(\.id.uuid) == [fresh])
            #expect(try jobs.expire() == 5)
            #expect(try jobs.expire() == 0)
            let rows = try conn.query("""
                SELECT count(*)::int AS n FROM job_queue
                WHERE id = ANY(\(stale)::uuid[]) AND status = 'cancelled' AND cancel_reason = 'expired'
                  AND started_at IS NULL AND attempt_count = 0
                """)
            #expect(try rows.first?.decode("n", as: Int.self) == 5)
            let audit = try conn.query("SELECT filter->>'queue' AS q, affected FROM audit_log WHERE action = 'job.expire'")
            #expect(audit.count == 1)
            #expect(try audit.first?.decode("q", as: String.self) == "campaign")
            #expect(try audit.first?.decode("affected", as: Int.self) == 5)
            let counts = try conn.query("SELECT last_hour, last_24h FROM queue_expired_counts(ARRAY['campaign'])")
            #expect(try counts.first?.decode("last_hour", as: Int.self) == 5)
            let health = try HealthStore(connection: conn).snapshot().snapshot
            #expect(health.queues.first { $0.name == "campaign" }?.counts.cancelled == 5)
            // An operator's cancel is told apart from expiry.
            let other = try jobs.enqueue(NewJob(queue: "campaign", type: "send")).id
            try jobs.cancel(id: other)
            #expect(try conn.query("SELECT cancel_reason FROM job_queue WHERE id = \(other)").scalar(String.self) == "operator")
        }
    }

    // MARK: tenants

    @Test func aTenantConcurrencyCapHoldsAcrossSessionsWhileOtherTenantsAndUntenantedJobsFlow() throws {
        try TestDatabase.with { db in
            let a = try db.connect(), b = try db.connect()
            defer { a.close(); b.close() }
            let jobs = JobStore(connection: a)
            _ = try jobs.enqueue((0..<500).map { _ in NewJob(queue: "shops", type: "sync", tenant: "flood") })
            _ = try jobs.enqueue((0..<4).map { _ in NewJob(queue: "shops", type: "sync", tenant: "small") })
            _ = try jobs.enqueue(NewJob(queue: "shops", type: "sync"))
            try QueueConfigStore(connection: a).update("shops", settings: JSONText(#"{"tenant_concurrency_limit": 3}"#))
            // Two sessions ask for far more than the cap, twice each.
            var claimed: [ClaimedJob] = []
            for _ in 0..<2 {
                claimed += try JobStore(connection: a).claim(worker: "wa", queues: ["shops"], max: 100)
                claimed += try JobStore(connection: b).claim(worker: "wb", queues: ["shops"], max: 100)
            }
            let byTenant = try tenantsOf(claimed.map(\.id), a)
            #expect(byTenant["flood"] == 3)
            #expect(byTenant["small"] == 3)
            #expect(byTenant["(none)"] == 1)  // no tenant key: not capped per tenant
            // Finishing one flood job frees exactly one slot for that tenant (small is still full).
            let flood = try a.query("SELECT id FROM job_queue WHERE tenant = 'flood' AND status = 'processing' LIMIT 1").scalar(JobID.self)
            let holder = try a.query("SELECT locked_by FROM job_queue WHERE id = \(flood)").scalar(String.self)
            try JobStore(connection: holder == "wa" ? a : b).complete(worker: holder, ids: [flood])
            let next = try JobStore(connection: b).claim(worker: "wb", queues: ["shops"], max: 100)
            #expect(try tenantsOf(next.map(\.id), a) == ["flood": 1])
            let top = try a.query("SELECT tenant, pending, processing FROM queue_tenants('shops')")
            #expect(try top.map { try $0.decode("tenant", as: String.self) } == ["flood", "small"])
            #expect(try top.first?.decode("pending", as: Int.self) == 496)
        }
    }

    @Test func aTenantRateCapHoldsAcrossSessionsWhileAnotherTenantGetsItsOwnBucket() throws {
        try TestDatabase.with { db in
            let a = try db.connect(), b = try db.connect()
            defer { a.close(); b.close() }
            let jobs = JobStore(connection: a)
            _ = try jobs.enqueue((0..<200).map { _ in NewJob(queue: "api", type: "call", tenant: "flood") })
            _ = try jobs.enqueue((0..<200).map { _ in NewJob(queue: "api", type: "call", tenant: "quiet") })
            try QueueConfigStore(connection: a).update("api", settings: JSONText(#"{"tenant_rate_limit_per_s": 4}"#))
            let started: Date = try a.query("SELECT clock_timestamp()").scalar()
            var claimed: [JobID] = []
            var now = started
            while now.timeIntervalSince(started) < 1.5 {
                for (conn, worker) in [(a, "wa"), (b, "wb")] {
                    claimed += try JobStore(connection: conn).claim(worker: worker, queues: ["api"], max: 50).map(\.id)
                }
                now = try a.query("SELECT clock_timestamp()").scalar()
                Thread.sleep(forTimeInterval: 0.02)
            }
            let elapsed = now.timeIntervalSince(started)
            let byTenant = try tenantsOf(claimed, a)
            for tenant in ["flood", "quiet"] {
                let n = byTenant[tenant] ?? 0
                // A burst of one second's worth, then 4/s; and the buckets do refill.
                #expect(Double(n) <= 4 + 4 * elapsed, "\(tenant): \(n) claims in \(elapsed) s at 4/s")
                #expect(n >= 5, "\(tenant): \(n) claims in \(elapsed) s")
            }
        }
    }

    @Test func tenantCapsAreQueueSettingsWithRangeChecks() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "q", type: "t"))
            let store = QueueConfigStore(connection: conn)
            #expect(throws: QueueStoreError.self) { try store.update("q", settings: JSONText(#"{"tenant_concurrency_limit": 0}"#)) }
            #expect(throws: QueueStoreError.self) { try store.update("q", settings: JSONText(#"{"tenant_rate_limit_per_s": -1}"#)) }
            #expect(throws: QueueStoreError.self) { try store.update("q", settings: JSONText(#"{"tenant_limit": 1}"#)) }
            try store.update("q", settings: JSONText(#"{"tenant_concurrency_limit": 5, "tenant_rate_limit_per_s": 2.5}"#))
            let row = try conn.query("SELECT tenant_concurrency_limit, tenant_rate_limit_per_s::float8 AS r FROM queues WHERE name = 'q'")
            #expect(try row.first?.decode("tenant_concurrency_limit", as: Int.self) == 5)
            #expect(try row.first?.decode("r", as: Double.self) == 2.5)
            let audit = try conn.query("SELECT count(*)::int FROM audit_log WHERE action = 'queue.settings'").scalar(Int.self)
            #expect(audit == 1)  // the refused updates wrote nothing
        }
    }

    private func tenantsOf(_ ids: [JobID], _ conn: Connection) throws -> [String: Int] {
        let rows = try conn.query("""
            SELECT coalesce(tenant, '(none)') AS t, count(*)::int AS n FROM job_queue WHERE id = ANY(\(ids)::uuid[]) GROUP BY 1
            """)
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode("t", as: String.self), try $0.decode("n", as: Int.self)) })
    }
}
