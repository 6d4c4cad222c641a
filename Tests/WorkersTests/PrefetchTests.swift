import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
import QueuetopLogging
@testable import Workers

/// The prefetch buffer's sizing (Prefetch.swift), without a database.
@Suite struct PrefetchPolicyTests {
    private let policy = PrefetchPolicy(maxWait: 1, limit: 100)

    @Test func nothingIsClaimedAheadUntilAJobHasFinished() {
        #expect(policy.allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace()) == 0)
    }

    @Test func fastJobsGetUpToTheLimitAhead() {
        #expect(policy.allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace(meanSeconds: 0.000_002, finished: 1000)) == 100)
        // 40 ms jobs on 10 executors: what they start in a quarter second (Little's law).
        #expect(policy.allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace(meanSeconds: 0.04, finished: 1000)) == 62)
    }

    @Test func theBufferGrowsNoFasterThanJobsFinish() {
        // One 30 ms run says little about a skewed latency: at most one job ahead for now.
        #expect(policy.allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace(meanSeconds: 0.03, finished: 1)) == 1)
        #expect(policy.allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace(meanSeconds: 0.000_002, finished: 10)) == 10)
    }

    @Test func slowJobsAndBusyExecutorsGetNoBuffer() {
        #expect(policy.allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace(meanSeconds: 5, finished: 1000)) == 0)
        #expect(policy.allowance(concurrency: 10, busyExecutors: 10, pace: HandlerPace(meanSeconds: 0.001, finished: 1000)) == 0)
        #expect(policy.allowance(concurrency: 10, busyExecutors: 9, pace: HandlerPace(meanSeconds: 0.01, finished: 1000)) == 25)
        #expect(PrefetchPolicy(maxWait: 0, limit: 100).allowance(concurrency: 10, busyExecutors: 0, pace: HandlerPace(meanSeconds: 0.001, finished: 1000)) == 0)
    }

    /// A pool buffers up to two batches, and after a full claim waits for a whole batch of room
    /// when the capacity holds two (a fast drain), half the capacity when it does not (slow jobs:
    /// executors never wait for every slot to be free). Half a batch at the defaults (250 of
    /// 1,010) made the fetcher claim ~260 right after each claim (NOTES part 5).
    @Test func afterAFullClaimTheFetcherWaitsForAWholeBatchWhenTwoFit() {
        let defaults = WorkerPoolConfiguration(database: try! ConnectionConfig("postgresql://localhost/none"))
        #expect(defaults.prefetch.limit == 2 * defaults.batchSize)
        // Defaults, fast jobs: 10 slots + a buffer of 1,000.
        #expect(PrefetchPolicy.claimLowWater(batch: 500, capacity: 1010, afterFullClaim: true) == 500)
        // Slow jobs: 10 slots + 2 buffered: 6, not all 12.
        #expect(PrefetchPolicy.claimLowWater(batch: 500, capacity: 12, afterFullClaim: true) == 6)
        #expect(PrefetchPolicy.claimLowWater(batch: 500, capacity: 1, afterFullClaim: true) == 1)
        #expect(PrefetchPolicy.claimLowWater(batch: 500, capacity: 1010, afterFullClaim: false) == 1)
    }

    @Test func theLedgerHandsOutOnlyJobsThatWaitedPastTheCutoff() {
        let ledger = Ledger()
        let jobs = (0..<3).map { WorkerJob(id: .numbered($0), queue: "q", type: "t", payload: "{}") }
        _ = ledger.reserve(upTo: 3, capacity: 3, minimum: 1, maxUnwritten: 3)
        ledger.claimed(Array(jobs.prefix(2)), reserved: 2, clock: 1_000)
        ledger.claimed([jobs[2]], reserved: 1, clock: 5_000)
        _ = ledger.start(jobs[0].id, clock: 2_000)  // running: never released
        #expect(ledger.waiting == 2)
        #expect(ledger.takeWaiting(claimedBefore: 3_000) == [jobs[1].id])
        #expect(ledger.start(jobs[1].id) == nil, "a released job must not run")
        #expect(ledger.waiting == 1 && ledger.slotsInUse == 2)
        #expect(ledger.oldestWaitingClaim() == 5_000)
    }
}

/// The prefetch buffer against a real PostgreSQL: what it buys and the bounds it keeps
/// (docs/WORKERS.md, "Claiming ahead").
extension PoolTests {
@Suite("prefetch buffer")
struct PrefetchPoolTests {
    /// A pool with the CLI's defaults except where a test says otherwise.
    static func pool(_ db: TestDatabase, queues: [String], concurrency: Int? = nil, prefetchWait: TimeInterval? = nil,
                     handlers: HandlerTable? = nil) -> WorkerPool {
        let defaults = WorkerPoolConfiguration(database: db.config)
        return WorkerPool(configuration: WorkerPoolConfiguration(
            database: db.config, queues: queues, concurrency: concurrency ?? defaults.concurrency,
            batchSize: defaults.batchSize, prefetchWait: prefetchWait ?? defaults.prefetchWait,
            handlers: handlers ?? PoolFixture.ledgerHandlers(db.config), pollInterval: 0.5, rescueInterval: 1,
            logger: .queuetop("test.pool", level: .warning, to: [LogCallback { print("[pool \($0.level)] \($0.message)") }])))
    }

    /// `count` ledger jobs in `queue` whose handler sleeps `sleep` seconds, in a fresh ledger.
    static func sleepingJobs(_ conn: Connection, queue: String, count: Int, sleep: Double) throws {
        try PoolFixture.prepare(conn)
        try PoolFixture.enqueue(conn, queue: queue, type: "ledger", count: count, extra: ",\"sleep_s\":\(sleep)")
    }

    /// Default settings, no-op jobs: one claim round trip carries a batch, not 10 jobs (one per
    /// free slot, which held a default worker at ~2.7 k jobs/s). Every job of one claim has the
    /// claim's transaction time as started_at, so distinct started_at values count the claims.
    @Test func defaultsClaimFastJobsABatchAtATime() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.enqueue(conn, queue: "fast", type: "noop", count: 2000)
            let pool = Self.pool(db, queues: ["fast"], handlers: HandlerTable())
            try pool.start()
            let done = try PoolFixture.eventually(timeout: 60) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 2000
            }
            pool.stop(grace: 5)
            #expect(done)
            let claims = try PoolFixture.count(conn, "SELECT count(DISTINCT started_at)::int FROM job_queue")
            print("2000 no-op jobs in \(claims) claims")
            #expect(claims <= 2000 / 50, "claims of at most the 10 free slots would take at least 200")
        }
    }

    /// A fast drain's claims carry whole batches, and the pool holds no more than
    /// `concurrency + 2 × batch` jobs claimed or running (sampled). Not a discriminating test of
    /// branch fast5's change (the old half-batch rule also passes it when the fetcher is
    /// scheduled late); `afterAFullClaimTheFetcherWaitsForAWholeBatchWhenTwoFit` is.
    @Test func aFastDrainClaimsWholeBatchesWithinTwoBatchesHeld() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let jobs = 3000, batch = 100, concurrency = 10
            try PoolFixture.enqueue(conn, queue: "fast", type: "noop", count: jobs)
            let pool = WorkerPool(configuration: WorkerPoolConfiguration(
                database: db.config, queues: ["fast"], concurrency: concurrency, batchSize: batch,
                handlers: HandlerTable(), pollInterval: 0.5, rescueInterval: 1))
            try pool.start()
            var mostHeld = 0
            let done = try PoolFixture.eventually(timeout: 90) {
                let now = pool.snapshot()
                mostHeld = max(mostHeld, now.waiting + now.running)
                return try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == jobs
            }
            pool.stop(grace: 5)
            #expect(done)
            let claims = try PoolFixture.count(conn, "SELECT count(DISTINCT started_at)::int FROM job_queue")
            let inWholeBatches = try PoolFixture.count(conn, "SELECT coalesce(sum(n), 0)::int FROM (SELECT count(*)::int AS n FROM job_queue GROUP BY started_at) c WHERE n = \(batch)")
            print("\(jobs) no-op jobs at batch \(batch) in \(claims) claims, \(inWholeBatches) in whole batches; at most \(mostHeld) held")
            #expect(inWholeBatches >= jobs * 85 / 100, "most jobs come in claims of a whole batch")
            // 30 whole batches, plus the buffer's start (it grows with the jobs finished: 10, 20, 40, ...).
            #expect(claims <= jobs / batch + 8, "claims of half a batch take more")
            #expect(mostHeld <= concurrency + 2 * batch)
        }
    }

    /// A job claimed into the buffer behind a long one is handed back within the stated bound
    /// (prefetchWait, plus one release round trip), pending again with no attempt counted, and
    /// runs exactly once later. Priorities fix the claim order: 30 fast jobs, then the long
    /// one, then the five that end up waiting behind it on the only executor.
    @Test func aJobClaimedBehindALongOneIsReleasedWithinTheBound() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            func enqueue(_ key: String, sleep: Double, priority: Int) throws {
                _ = try JobStore(connection: conn).enqueue([NewJob(
                    queue: "mixed", type: "ledger", payload: JSONText("{\"k\":\"\(key)\",\"sleep_s\":\(sleep)}"), priority: priority)])
            }
            for i in 0..<30 { try enqueue("fast-\(i)", sleep: 0.002, priority: 30) }
            try enqueue("long", sleep: 4, priority: 20)
            for i in 0..<5 { try enqueue("behind-\(i)", sleep: 0, priority: 10) }
            let bound = 1.0
            let pool = Self.pool(db, queues: ["mixed"], concurrency: 1, prefetchWait: bound)
            try pool.start()
            defer { pool.stop(grace: 5) }

            // Watch the five: when each was claimed (started_at is the claim's time) and when it
            // was seen pending again or its handler started (the ledger row's ran_at).
            var claimedAt: [String: Double] = [:], handedBackAt: [String: Double] = [:]
            let watched = try PoolFixture.eventually(timeout: 20) {
                let rows = try conn.query("""
                    SELECT j.payload->>'k', j.status, extract(epoch FROM j.started_at)::float8,
                           extract(epoch FROM clock_timestamp())::float8,
                           (SELECT extract(epoch FROM min(l.ran_at))::float8 FROM public.ledger l WHERE l.k = j.payload->>'k')
                    FROM job_queue j WHERE j.payload->>'k' LIKE 'behind-%'
                    """)
                for row in rows {
                    let key = try row.decode(0, as: String.self), status = try row.decode(1, as: String.self)
                    let now = try row.decode(3, as: Double.self)
                    if status == "processing", claimedAt[key] == nil, let t = try row.decode(2, as: Double?.self) { claimedAt[key] = t }
                    if claimedAt[key] != nil, handedBackAt[key] == nil {
                        if let ran = try row.decode(4, as: Double?.self) { handedBackAt[key] = ran } else if status == "pending" { handedBackAt[key] = now }
                    }
                }
                return handedBackAt.count == 5
            }
            #expect(watched, "all five were claimed while the long job ran, then started or handed back")
            for (key, claimed) in claimedAt.sorted(by: { $0.key < $1.key }) {
                let waited = (handedBackAt[key] ?? .infinity) - claimed
                print("\(key) waited \(String(format: "%.2f", waited)) s claimed but not started")
                #expect(waited < bound + 0.5, "\(key) sat \(waited) s in the buffer")
            }
            // Released, not failed: no attempt counted; each ran once, after the long job.
            #expect(try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 36
            })
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE attempt_count > 0") == 0)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM public.ledger WHERE k LIKE 'behind-%'") == 5)
        }
    }

    /// processing_time_ms (what p50/p95/p99 are made of) is the handler's time, not the time
    /// since the claim: jobs that waited in the buffer for most of a second still record ~0.1 s.
    @Test func processingTimeExcludesTheWaitInTheBuffer() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.sleepingJobs(conn, queue: "paced", count: 24, sleep: 0.1)
            // One executor; a 4 s bound sizes the buffer for ~1 s of 0.1 s jobs.
            let pool = Self.pool(db, queues: ["paced"], concurrency: 1, prefetchWait: 4)
            try pool.start()
            let done = try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'completed'") == 24
            }
            pool.stop(grace: 5)
            #expect(done)
            let waitedMs = try PoolFixture.count(conn, """
                SELECT max(extract(epoch FROM completed_at - started_at) * 1000)::int FROM job_queue
                """)
            let longestProcessing = try PoolFixture.count(conn, "SELECT max(processing_time_ms) FROM job_queue")
            let shortestProcessing = try PoolFixture.count(conn, "SELECT min(processing_time_ms) FROM job_queue")
            print("claim to completion at most \(waitedMs) ms; processing_time_ms \(shortestProcessing)-\(longestProcessing)")
            #expect(waitedMs >= 500, "jobs waited in the buffer")
            #expect(shortestProcessing >= 100 && longestProcessing < 400)
        }
    }

    /// Pausing a queue hands its buffered jobs back at once instead of running them.
    @Test func pausingAQueueHandsBackItsBufferedJobs() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try Self.sleepingJobs(conn, queue: "p", count: 200, sleep: 0.05)
            // 0.05 s jobs, one executor, 20 s bound: the buffer is sized for 5 s (100 jobs).
            let pool = Self.pool(db, queues: ["p"], concurrency: 1, prefetchWait: 20)
            try pool.start()
            defer { pool.stop(grace: 5) }
            #expect(PoolFixture.eventually(timeout: 10) { pool.snapshot().waiting >= 20 })
            try conn.query("SELECT pause_queue('p')")
            // The settings refresh (every second) sees the pause; the rest go back to pending.
            #expect(try PoolFixture.eventually(timeout: 5) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'processing'") == 0
            })
            let ran = try PoolFixture.count(conn, "SELECT count(*)::int FROM public.ledger")
            Thread.sleep(forTimeInterval: 1)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM public.ledger") == ran)
            #expect(ran < 100)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending' AND attempt_count = 0") == 200 - ran)
        }
    }
}
}

/// Claimed, not started: the registry row says how many of a worker's jobs wait in its buffer
/// (migration 0024), so the workers screen and `workers list` can tell them from running ones.
extension PoolTests {
@Suite("buffered jobs in the registry")
struct BufferedRegistryTests {
    @Test func theRegistryHeartbeatReportsBufferedJobsAndZeroOnceStopped() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolTests.PrefetchPoolTests.sleepingJobs(conn, queue: "b", count: 200, sleep: 0.05)
            // 0.05 s jobs, one executor, 20 s bound: a buffer of up to ~100 jobs builds up.
            let pool = PoolTests.PrefetchPoolTests.pool(db, queues: ["b"], concurrency: 1, prefetchWait: 20)
            try pool.start()
            var seen: (inFlight: Int, buffered: Int) = (0, 0)
            let reported = try PoolFixture.eventually(timeout: 15) {
                let row = try conn.query("""
                    SELECT in_flight, buffered FROM worker_registry WHERE id = \(pool.id)
                    """).first
                seen = (try row?.decode(0, as: Int.self) ?? 0, try row?.decode(1, as: Int.self) ?? 0)
                return seen.buffered >= 10
            }
            #expect(reported, "the registry row never showed the buffer (last: \(seen))")
            #expect(seen.buffered < seen.inFlight, "buffered jobs are part of in_flight; one runs")
            pool.stop(grace: 5)
            let after = try conn.query("SELECT in_flight, buffered FROM workers WHERE id = \(pool.id)").first
            #expect(try after?.decode(0, as: Int.self) == 0)
            #expect(try after?.decode(1, as: Int.self) == 0)
        }
    }

    /// The SQL side: buffered never exceeds in_flight, never goes negative, and a worker of an
    /// older build that sends only in_flight still heartbeats (buffered 0).
    @Test func workerHeartbeatClampsBufferedAndAcceptsTheOldTwoArgumentCall() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("SELECT register_worker('w1', 'h', 1, NULL, 4)")
            func row() throws -> (Int, Int) {
                let r = try conn.query("SELECT in_flight, buffered FROM worker_registry WHERE id = 'w1'").first!
                return (try r.decode(0), try r.decode(1))
            }
            #expect(try conn.query("SELECT worker_heartbeat('w1', 12, 5)").first?.decode(0, as: String?.self) == "running")
            #expect(try row() == (12, 5))
            try conn.execute("SELECT worker_heartbeat('w1', 3, 9)")
            #expect(try row() == (3, 3))
            try conn.execute("SELECT worker_heartbeat('w1', 3, -4)")
            #expect(try row() == (3, 0))
            try conn.execute("SELECT worker_heartbeat('w1', 7)")
            #expect(try row() == (7, 0))
            try conn.execute("SELECT worker_heartbeat('w1', 7, 2)")
            try conn.execute("SELECT deregister_worker('w1')")
            #expect(try row() == (0, 0))
        }
    }
}
}
