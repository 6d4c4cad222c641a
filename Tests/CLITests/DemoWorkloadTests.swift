import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// `queuetop demo seed` and `queuetop demo produce`, run as scripts/demo runs them, against a
/// real database: what a newcomer sees on the first frame, and that work keeps arriving.
@Suite struct DemoWorkloadTests {
    @Test func seedGivesTheFirstFrameAFullDayOfHistoryADLQAndLeadMigrations() throws {
        try TestDatabase.with { db in
            let r = try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo], timeout: 120)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("in the DLQ"))
            let conn = try db.connect()
            defer { conn.close() }

            // The seeds' shapes: store_sync at most 3 at once, campaigns 5 (2 per shop) with the
            // 5/15/30 schedule.
            let queues = try QueueConfigStore(connection: conn).list()
            let byName = Dictionary(uniqueKeysWithValues: queues.map { ($0.name, $0) })
            #expect(byName["store_sync"]?.concurrencyLimit == 3)
            #expect(byName["campaigns"]?.concurrencyLimit == 5)
            #expect(byName["campaigns"]?.tenantCaps == TenantCaps(concurrencyLimit: 2, ratePerSecond: nil))
            #expect(byName["campaigns"]?.backoffScheduleSeconds == [5, 15, 30])
            #expect(byName["emails"] != nil)
            #expect(byName["lead_migrations"]?.paused == true)

            let snapshot = try HealthStore(connection: conn).snapshot().snapshot
            for name in ["emails", "store_sync", "campaigns"] {
                let q = try #require(snapshot.queues.first { $0.name == name })
                // Every hourly bar has completions (the current hour may have just begun), and
                // the percentiles are filled.
                #expect(q.throughputPerHour.count == 24)
                #expect(q.throughputPerHour.dropLast().allSatisfy { $0.completed > 0 }, "\(name): \(q.throughputPerHour.map(\.completed))")
                #expect(q.latencyMs.p50 != nil && q.latencyMs.p99 != nil)
                #expect(q.counts.deadLetter > 0)
            }
            // walk2: the last hour's history runs at the live producer's rate (emails: 6 a second,
            // ±50 %), so the TREND and per-minute charts do not step up when the pool starts;
            // and it is continuous: the hour's first and last ten minutes are alike.
            let emails = try #require(snapshot.queues.first { $0.name == "emails" })
            let minutes = emails.throughputPerMinute.dropLast().map { Double($0.completed) }
            #expect(minutes.count >= 50)
            let recent = minutes.suffix(10).reduce(0, +) / 10, early = minutes.prefix(10).reduce(0, +) / 10
            #expect((200...520).contains(recent), "the live rate is ~360 a minute; the seeded last minutes: \(minutes)")
            #expect(abs(recent - early) / recent < 0.25, "a step within the last hour: \(minutes)")
            // A DLQ of a few hundred over several error types, each job with its attempt history.
            let dlq = try DLQStore(connection: conn).groups()
            let total = dlq.reduce(0) { $0 + $1.count }
            #expect((200...1000).contains(total), "\(total)")
            #expect(Set(dlq.map(\.errorType)).count >= 5)
            let withoutHistory: Int = try conn.query("""
                SELECT count(*)::int FROM job_queue j WHERE status = 'dead_letter'
                   AND (SELECT count(*) FROM job_attempts a WHERE a.job_id = j.id) <> j.attempt_count
                """).scalar()
            #expect(withoutHistory == 0)
            // Error types have 24 h of history, in the live mix.
            #expect(Set(snapshot.errorTypes.map(\.errorType)).isSuperset(of: ["smtp_error", "rate_limited", "ai_timeout"]))

            // Seed 003's 992 leads in batches of 100, and a larger run, both queued.
            let migrations = try LeadMigrationStore(connection: conn).progress()
            let small = try #require(migrations.first { $0.total == 992 })
            #expect(small.batchSize == 100 && small.status.isActive)
            #expect(migrations.contains { $0.total > 10_000 && $0.status.isActive })
        }
    }

    @Test func seedingAgainAddsNothingAndADatabaseInUseIsRefusedUntouched() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            // Someone's real queue: the demo must not pour made-up rows next to it.
            _ = try JobStore(connection: conn).enqueue(NewJob(queue: "invoices", type: "render"))
            let refused = try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("invoices") && refused.stderr.contains("changed nothing"))
            let rows: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
            let queues: Int = try conn.query("SELECT count(*)::int FROM queues").scalar()
            #expect(rows == 1 && queues == 1)
        }
        try TestDatabase.with { db in
            #expect(try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo], timeout: 120).status == 0)
            let conn = try db.connect()
            defer { conn.close() }
            let before: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
            let again = try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo], timeout: 120)
            #expect(again.status == 0 && again.stdout.contains("already there"))
            let after: Int = try conn.query("SELECT count(*)::int FROM job_queue").scalar()
            #expect(after == before)
        }
    }

    /// Issue 22: the seeds' schedules, a deploy mark and a timeline with content, payloads shaped
    /// like the seeds' messages (the simulation lives in the worker config), and a free-text
    /// failure family whose every message differs.
    @Test func seedHasTheSeedsSchedulesATimelineAndMessageShapedPayloads() throws {
        try TestDatabase.with { db in
            #expect(try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo], timeout: 120).status == 0)
            let conn = try db.connect()
            defer { conn.close() }
            let schedules = try ScheduleStore(connection: conn).list()
            #expect(Set(schedules.map(\.name)) == ["fetch-emails", "process-queue", "aggregate-queue-metrics",
                                                    "cleanup-completed-jobs", "cleanup-stuck-jobs", "sync-worker"])
            #expect(schedules.first { $0.name == "sync-worker" }?.cron == "*/10 * * * * *", "seed 001's 10-second worker")
            #expect(schedules.allSatisfy { $0.enabled })

            let timeline = try TimelineStore(connection: conn).list(since: Date().addingTimeInterval(-86_400))
            #expect(timeline.contains { $0.source == .mark && $0.event == "deploy" && $0.summary.hasPrefix("deploy v42") })
            #expect(timeline.contains { $0.event == "alert.firing" } && timeline.contains { $0.event == "alert.cleared" })
            #expect(timeline.contains { $0.event == "schedule.add" } && timeline.contains { $0.event == "dlq.requeue" })
            // Seeded audit rows look like live ones: the actor is the login role (since 0014), so
            // the audit screen at 80 columns needs no ROLE column beside it.
            let audit = try AuditStore(connection: conn).list(limit: 1000)
            #expect(!audit.isEmpty && audit.allSatisfy { $0.actor == $0.databaseRole }, "\(audit.filter { $0.actor != $0.databaseRole })")

            // No payload carries simulation settings any more.
            let simulated: Int = try conn.query("""
                SELECT count(*)::int FROM \(qt: "job_queue") WHERE payload ?| array['latency_ms', 'errors', 'retry_after_s', 'result']
                """).scalar()
            #expect(simulated == 0)
            let email: String = try conn.query("SELECT payload::text FROM \(qt: "job_queue") WHERE queue = 'emails' AND status = 'dead_letter' LIMIT 1").scalar()
            for field in ["\"to\"", "\"subject\"", "\"template\""] { #expect(email.contains(field), "\(email)") }

            // The free-text family: one vague type, a different message on every job, no template left.
            let family = try conn.query("""
                SELECT count(*)::int AS n, count(DISTINCT error_message)::int AS distinct_messages,
                       count(*) FILTER (WHERE error_message LIKE '%{n:%')::int AS raw
                  FROM \(qt: "job_queue") WHERE status = 'dead_letter' AND error_message LIKE 'timeout after % ms for order %'
                """).first
            let n: Int = try family?.decode("n") ?? 0
            let distinct: Int = try family?.decode("distinct_messages") ?? 0
            #expect(n >= 40 && distinct > n / 2, "\(distinct) distinct messages of \(n)")
            #expect(try family?.decode("raw", as: Int.self) == 0)
        }
    }

    /// scripts/lib/demo-workers.json is the worker config the workload describes (regenerate it
    /// with `queuetop demo worker-config > scripts/lib/demo-workers.json`), and it loads.
    @Test func demoWorkerConfigIsCurrentAndBindsEveryJobType() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lib/demo-workers.json")
        let printed = try QueuetopBinary.run(["demo", "worker-config"])
        #expect(printed.status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == printed.stdout,
                "scripts/lib/demo-workers.json is stale: run `queuetop demo worker-config > scripts/lib/demo-workers.json`")
        for type in ["send_email", "sync_store", "send_campaign_message", "fetch_emails", "process_queue", "sync_worker"] {
            #expect(printed.stdout.contains("\"\(type)\""), "\(type) has a handler")
        }
    }

    @Test func seedOnAnUnmigratedDatabaseSaysToMigrate() throws {
        try TestDatabase.with(migrated: false) { db in
            let r = try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo])
            #expect(r.status != 0)
            #expect(r.stderr.contains("queuetop migrate"))
            #expect(!r.stderr.contains("Fatal error"))
        }
    }

    @Test func producerKeepsEveryQueueFedAndLeadsMovingUntilItsTimeIsUp() throws {
        try TestDatabase.with { db in
            #expect(try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo], timeout: 120).status == 0)
            let conn = try db.connect()
            defer { conn.close() }
            let seededAt: Date = try conn.query("SELECT now()").scalar()
            let started = Date()
            let r = try QueuetopBinary.run(["demo", "produce", "--for", "3", "--db", db.conninfo], timeout: 60)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(Date().timeIntervalSince(started) < 30, "--for 3 stops the producer by itself")

            let arrived = try conn.query("""
                SELECT queue, count(*)::int AS n, count(DISTINCT dedup_key)::int AS keys, count(dedup_key)::int AS keyed
                  FROM job_queue WHERE created_at >= \(seededAt) AND status = 'pending' GROUP BY queue
                """)
            var counts: [String: (n: Int, keys: Int, keyed: Int)] = [:]
            for row in arrived { counts[try row.decode("queue")] = (try row.decode("n"), try row.decode("keys"), try row.decode("keyed")) }
            #expect((counts["emails"]?.n ?? 0) >= 5, "\(counts)")
            #expect((counts["campaigns"]?.n ?? 0) >= 20, "\(counts)")
            // Campaign messages belong to a shop (the tenant) and go stale: each carries both.
            let campaigns: [(tenant: String?, expires: Bool)] = try conn.query("""
                SELECT tenant, coalesce(expires_at > created_at, false) AS expires FROM job_queue
                 WHERE queue = 'campaigns' AND created_at >= \(seededAt)
                """).map { (try $0.decode("tenant"), try $0.decode("expires")) }
            #expect(!campaigns.isEmpty && campaigns.allSatisfy { $0.tenant?.hasPrefix("loja-") == true && $0.expires })
            // Store syncs carry a dedup key per store and period: never two active for one key.
            let sync = try #require(counts["store_sync"])
            #expect(sync.n > 0 && sync.keyed == sync.n && sync.keys == sync.n)
            // Payloads are shaped like seed 000's messages; the simulation is the worker config's.
            let payload: String = try conn.query("""
                SELECT payload::text FROM job_queue WHERE queue = 'emails' AND job_type = 'send_email' ORDER BY created_at DESC LIMIT 1
                """).scalar()
            #expect(payload.contains("\"to\"") && payload.contains("\"subject\"") && !payload.contains("latency_ms")
                    && !payload.contains("smtp_error"), "\(payload)")

            // Seed 003's cron ran: the 992-lead migration moved batches of 100.
            let small = try #require(try LeadMigrationStore(connection: conn).progress().first { $0.total == 992 })
            #expect(small.moved >= 100)
            #expect(small.moved % 100 == 0 || small.moved == 992, "whole batches of 100: \(small.moved)")
        }
    }

    @Test func producerStopsByItselfWhenTheProcessItFollowsIsKilled() throws {
        try TestDatabase.with { db in
            #expect(try QueuetopBinary.run(["demo", "seed", "--db", db.conninfo], timeout: 120).status == 0)
            // Stands in for a scripts/demo killed with SIGKILL, whose traps never run.
            let demo = Process()
            demo.executableURL = URL(fileURLWithPath: "/bin/sleep")
            demo.arguments = ["600"]
            try demo.run()
            let producer = Process()
            producer.executableURL = URL(fileURLWithPath: QueuetopBinary.path)
            producer.arguments = ["demo", "produce", "--db", db.conninfo, "--stop-with", String(demo.processIdentifier)]
            producer.standardError = FileHandle.nullDevice
            try producer.run()
            defer { if producer.isRunning { kill(producer.processIdentifier, SIGKILL) } }
            Thread.sleep(forTimeInterval: 1.5)
            #expect(producer.isRunning, "it produces while the process it follows lives")
            kill(demo.processIdentifier, SIGKILL)
            demo.waitUntilExit()
            let deadline = Date().addingTimeInterval(15)
            while producer.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(!producer.isRunning, "the producer outlived the process it follows")
            if !producer.isRunning { #expect(producer.terminationStatus == 0) }
        }
    }

    @Test func produceRejectsANonPositiveDurationAndAProcessThatIsNotThere() throws {
        let r = try QueuetopBinary.run(["demo", "produce", "--for", "0", "--db", "postgres://u:pw@127.0.0.1:1/x"])
        #expect(r.status != 0 && r.stderr.contains("--for"))
        let gone = try QueuetopBinary.run(["demo", "produce", "--stop-with", "2147483646", "--db", "postgres://u:pw@127.0.0.1:1/x"])
        #expect(gone.status != 0 && gone.stderr.contains("no such process"))
        #expect(!(r.stderr + gone.stderr).contains("pw@"))
    }
}
