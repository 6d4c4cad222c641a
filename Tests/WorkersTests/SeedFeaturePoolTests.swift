import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing
@testable import Workers

/// Issue 10 through the worker pool and real handlers: what a handler returns is the cached
/// answer of a unique-for-a-period key, an expired job never reaches a handler, and per-tenant
/// caps hold while two pools (two sets of sessions) work a flood from one tenant.
@Suite(.serialized) struct SeedFeaturePoolTests {
    /// A SQL handler that records each run with its start and end time and returns a result.
    static let workSQL = """
        CREATE TABLE public.runs (k text, tenant text, started timestamptz, finished timestamptz);
        CREATE FUNCTION public.do_work(payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
        DECLARE t0 timestamptz := clock_timestamp();
        BEGIN
          PERFORM pg_sleep(coalesce((payload->>'sleep_s')::float8, 0));
          INSERT INTO public.runs VALUES (payload->>'k', payload->>'tenant', t0, clock_timestamp());
          RETURN jsonb_build_object('k', payload->>'k', 'orders', 42);
        END $$;
        """

    static func handlers(_ db: TestDatabase) -> HandlerTable {
        HandlerTable(bindings: ["work": SQLHandler(mode: .function("public.do_work"), timeout: 30, database: db.config)])
    }

    @Test func whatTheHandlerReturnedAnswersAnEnqueueWithinThePeriod() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript(Self.workSQL)
            let jobs = JobStore(connection: conn)
            let sync = NewJob(queue: "stores", type: "work", payload: JSONText(#"{"k": "store-7"}"#),
                              dedupKey: "store:7", uniqueForSeconds: 600)
            let first = try jobs.enqueue(sync)
            let pool = PoolFixture.pool(db, queues: ["stores"], handlers: Self.handlers(db))
            try pool.start()
            defer { pool.stop(grace: 5) }
            #expect(try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 1
            })
            let again = try jobs.enqueue(sync)
            #expect(again.id == first.id && again.isCacheHit)
            let result = try #require(again.result)
            let object = try JSONSerialization.jsonObject(with: Data(result.raw.utf8)) as? [String: Any]
            #expect(object?["k"] as? String == "store-7" && object?["orders"] as? Int == 42)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM runs") == 1)  // the work ran once
        }
    }

    @Test func aCommandsStdoutIsItsResultAndTooMuchOutputIsNotStoredCut() throws {
        let json = CommandHandler(argv: ["/bin/sh", "-c", #"echo '{"synced": 3}'"#], timeout: 10)
        #expect(json.handle(JobContext(job: WorkerJob(id: .numbered(1), queue: "q", type: "t", payload: "{}")))
                == .completedWithResult(#"{"synced": 3}"# + "\n"))
        let text = CommandHandler(argv: ["/bin/sh", "-c", "echo done"], timeout: 10)
        #expect(text.handle(JobContext(job: WorkerJob(id: .numbered(1), queue: "q", type: "t", payload: "{}")))
                == .completedWithResult(#""done\n""#))
        let silent = CommandHandler(argv: ["/bin/true"], timeout: 10)
        #expect(silent.handle(JobContext(job: WorkerJob(id: .numbered(1), queue: "q", type: "t", payload: "{}"))) == .completed)
        let huge = CommandHandler(argv: ["/bin/sh", "-c", "head -c 70000 /dev/zero | tr '\\0' x"], timeout: 10)
        guard case let .completedWithResult(note) = huge.handle(JobContext(job: WorkerJob(id: .numbered(1), queue: "q", type: "t", payload: "{}"))) else {
            Issue.record("a command with 70 kB of stdout should complete with a note")
            return
        }
        #expect(note.contains("result_not_stored"))
    }

    @Test func anExpiredJobNeverReachesAHandlerAndIsCountedAsExpired() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript(Self.workSQL)
            let jobs = JobStore(connection: conn)
            // Seeds 002/004: campaign messages that are not worth sending once they are old.
            let serverNow: Date = try conn.query("SELECT now()").scalar()
            _ = try jobs.enqueue((0..<20).map {
                NewJob(queue: "campaign", type: "work", payload: JSONText("{\"k\": \"old-\($0)\"}"),
                       expiresAt: serverNow.addingTimeInterval(1))
            })
            _ = try jobs.enqueue((0..<5).map {
                NewJob(queue: "campaign", type: "work", payload: JSONText("{\"k\": \"new-\($0)\"}"))
            })
            _ = try conn.query("SELECT pause_queue('campaign')")  // so that nothing claims them in time
            let pool = PoolFixture.pool(db, queues: ["campaign"], handlers: Self.handlers(db))
            try pool.start()
            defer { pool.stop(grace: 5) }
            Thread.sleep(forTimeInterval: 1.3)
            _ = try conn.query("SELECT resume_queue('campaign')")
            #expect(try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 5
                    && PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE cancel_reason = 'expired'") == 20
            })
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM runs WHERE k LIKE 'old-%'") == 0)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM runs WHERE k LIKE 'new-%'") == 5)
            #expect(try PoolFixture.count(conn, "SELECT coalesce(sum(affected), 0)::int FROM audit_log WHERE action = 'job.expire'") == 20)
        }
    }

    @Test func tenantCapsHoldUnderOneTenantsFloodWhileAnotherTenantsJobsFlow() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.executeScript(Self.workSQL)
            let jobs = JobStore(connection: conn)
            _ = try jobs.enqueue((0..<300).map {
                NewJob(queue: "shops", type: "work", payload: JSONText("{\"k\": \"f\($0)\", \"tenant\": \"flood\", \"sleep_s\": 0.1}"),
                       tenant: "flood")
            })
            _ = try jobs.enqueue((0..<20).map {
                NewJob(queue: "shops", type: "work", payload: JSONText("{\"k\": \"s\($0)\", \"tenant\": \"small\", \"sleep_s\": 0.1}"),
                       tenant: "small")
            })
            try QueueConfigStore(connection: conn).update("shops", settings: JSONText(#"{"tenant_concurrency_limit": 2}"#))
            // Two pools with room for far more than the cap.
            let pools = (0..<2).map { _ in PoolFixture.pool(db, queues: ["shops"], concurrency: 10, batch: 10, handlers: Self.handlers(db)) }
            for pool in pools { try pool.start() }
            defer { for pool in pools { pool.stop(grace: 5) } }
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM runs WHERE tenant = 'small'") == 20
            })
            // The small tenant finished while the flood was still mostly waiting.
            let floodDone = try PoolFixture.count(conn, "SELECT count(*)::int FROM runs WHERE tenant = 'flood'")
            #expect(floodDone < 150, "flood ran \(floodDone) of 300 jobs before the small tenant's 20 were done")
            // Never more than two flood jobs ran at once: the most runs overlapping any run's start.
            let overlap = try PoolFixture.count(conn, """
                SELECT coalesce(max(n), 0)::int FROM (
                  SELECT (SELECT count(*) FROM runs o WHERE o.tenant = r.tenant
                          AND o.started <= r.started AND o.finished > r.started) AS n
                  FROM runs r) x
                """)
            #expect(overlap <= 2, "\(overlap) jobs of one tenant ran at once; the cap is 2")
            #expect(overlap == 2)  // and the cap was used, not undercut
        }
    }
}
