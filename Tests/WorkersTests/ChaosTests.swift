import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// The fault suite (docs/RELIABILITY.md): faults injected into real `queuetop worker` processes
/// and a real PostgreSQL, then the ledger (a table the `sql` handler writes once per run of a job)
/// shows that no job was lost or left stuck and that duplicates stay inside the documented
/// at-least-once window. A few minutes in `scripts/test`; `QUEUETOP_CHAOS_LONG=1` runs the long
/// version (more jobs, more faults).
///
/// Each test prints one `CHAOS |` line: fault, runs, jobs, lost, duplicated, stuck — the figures
/// RELIABILITY.md quotes.
extension PoolTests {
@Suite("chaos: faults lose nothing")
struct ChaosTests {
    static let long = ProcessInfo.processInfo.environment["QUEUETOP_CHAOS_LONG"] == "1"

    static func report(_ fault: String, runs: Int, jobs: Int, lost: Int, duplicated: Int, stuck: Int) {
        print("CHAOS | \(fault) | \(runs) | \(jobs) | \(lost) | \(duplicated) | \(stuck)")
    }

    /// A queue for chaos: rescue after `visibility` seconds, retries at once, never the DLQ
    /// because of rescues alone (each rescue counts an attempt).
    static func makeQueue(_ conn: Connection, _ name: String, visibility: Int) throws {
        try conn.execute("""
            INSERT INTO queues (name, visibility_timeout_s, backoff_base_s, max_attempts)
            VALUES (\(name), \(visibility), 0, 1000)
            """)
    }

    /// Ledger figures for a queue of `jobs` jobs keyed `queue-0 …`.
    struct Outcome {
        var completed = 0, distinctRuns = 0, runs = 0, notFinished = 0, dead = 0
        var lost: Int { 0 }
        var duplicated: Int { runs - distinctRuns }
    }

    static func outcome(_ conn: Connection, queue: String) throws -> Outcome {
        let row = try conn.query("""
            SELECT count(*) FILTER (WHERE status = 'completed')::int,
                   count(*) FILTER (WHERE status IN ('pending', 'processing'))::int,
                   count(*) FILTER (WHERE status = 'dead_letter')::int,
                   (SELECT count(DISTINCT k)::int FROM ledger WHERE k LIKE \(queue + "-%")),
                   (SELECT count(*)::int FROM ledger WHERE k LIKE \(queue + "-%"))
            FROM job_queue WHERE queue = \(queue)
            """)[0]
        return Outcome(completed: try row.decode(0), distinctRuns: try row.decode(3), runs: try row.decode(4),
                       notFinished: try row.decode(1), dead: try row.decode(2))
    }

    // MARK: kill -9

    @Test func workersKilledAtRandomMomentsLoseNoJob() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        let jobs = Self.long ? 100_000 : 20_000
        let kills = Self.long ? 40 : 8
        let concurrency = 16, batch = 50
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try PoolFixture.prepare(conn)
            // Visibility 8 s: long enough that a live worker's heartbeats (every second) still
            // arrive in time on a loaded 2-core CI machine, so only killed workers' jobs are
            // rescued; with 2 s, a busy machine rescued live workers' jobs and ran them twice.
            try Self.makeQueue(conn, "kill9", visibility: 8)
            try PoolFixture.enqueue(conn, queue: "kill9", type: "ledger", count: jobs)
            let (dir, config) = try PoolFixture.ledgerWorkerConfig()
            let log = dir.appendingPathComponent("workers.log").path
            func spawn() throws -> Process {
                try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["kill9"], config: config, log: log,
                                            concurrency: concurrency, batch: batch)
            }
            var workers = [try spawn(), try spawn()]
            defer { for w in workers { PoolFixture.stopWorker(w, timeout: 5) } }

            // Kill a random worker at a random moment while the run is under way, and restart it.
            var killed = 0
            var generator = SystemRandomNumberGenerator()
            while killed < kills {
                Thread.sleep(forTimeInterval: Double.random(in: 0.3...1.5, using: &generator))
                if try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE queue = 'kill9' AND status = 'pending'") == 0 { break }
                let victim = Int.random(in: 0..<workers.count, using: &generator)
                kill(workers[victim].processIdentifier, SIGKILL)
                workers[victim].waitUntilExit()
                killed += 1
                workers[victim] = try spawn()
            }
            let finished = try PoolFixture.eventually(timeout: Self.long ? 600 : 180) {
                try Self.outcome(conn, queue: "kill9").completed == jobs
            }
            let o = try Self.outcome(conn, queue: "kill9")
            Self.report("worker kill -9 (\(killed) kills, 2 workers)", runs: o.runs, jobs: jobs,
                        lost: jobs - o.distinctRuns, duplicated: o.duplicated, stuck: o.notFinished)
            #expect(finished, "not every job completed: \(o)")
            #expect(killed >= 2, "the run ended before the faults were injected")
            #expect(o.distinctRuns == jobs, "a job never ran")
            #expect(o.notFinished == 0 && o.dead == 0)
            // The window: per kill, at most the jobs that worker was running plus the handled
            // results it had not committed yet, which the pool bounds (docs/WORKERS.md).
            #expect(o.duplicated <= killed * (concurrency + 2 * max(batch, concurrency)))
        }
    }

    // MARK: PostgreSQL restarted

    @Test func postgresRestartedFastAndImmediateLosesNoJob() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        let jobs = Self.long ? 30_000 : 6_000
        let modes: [PrivateCluster.ShutdownMode] = Self.long ? [.fast, .immediate, .fast, .immediate, .immediate] : [.fast, .immediate]
        let visibility = 5
        let cluster = try PrivateCluster()
        defer { cluster.destroy() }
        let conninfo = cluster.url
        func connect() throws -> Connection { try Connection.connect(cluster.sqlConfig) }
        let setup = try connect()
        try PoolFixture.prepare(setup)
        try Self.makeQueue(setup, "restart", visibility: visibility)
        try PoolFixture.enqueue(setup, queue: "restart", type: "ledger", count: jobs, extra: #","sleep_s":0.001"#)
        setup.close()
        let (dir, config) = try PoolFixture.ledgerWorkerConfig()
        let log = dir.appendingPathComponent("workers.log").path
        let workers = try (0..<2).map { _ in
            try PoolFixture.spawnWorker(conninfo: conninfo, queues: ["restart"], config: config, log: log, concurrency: 8, batch: 20)
        }
        defer { for w in workers { PoolFixture.stopWorker(w, timeout: 5) } }

        // Stuck = processing with a lease older than the visibility timeout plus one rescue
        // period (10 s) and slack: sampled all along, through the outages.
        var stuckSeen = 0
        func sample() -> Int? {
            guard let c = try? connect() else { return nil }
            defer { c.close() }
            if let stuck = try? PoolFixture.count(c, """
                SELECT count(*)::int FROM job_queue WHERE status = 'processing'
                AND coalesce(heartbeat_at, started_at) < now() - make_interval(secs => \(visibility + 15))
                """) { stuckSeen = max(stuckSeen, stuck) }
            return try? PoolFixture.count(c, "SELECT count(*)::int FROM ledger")
        }
        for (i, mode) in modes.enumerated() {
            let threshold = jobs * (i + 1) / (modes.count + 2)
            #expect(PoolFixture.eventually(timeout: 120) { (sample() ?? 0) >= threshold }, "no progress before restart \(i)")
            try cluster.restart(mode)
        }
        let finished = PoolFixture.eventually(timeout: Self.long ? 600 : 180) {
            _ = sample()
            guard let c = try? connect() else { return false }
            defer { c.close() }
            return (try? Self.outcome(c, queue: "restart").completed) == jobs
        }
        let conn = try connect()
        defer { conn.close() }
        let o = try Self.outcome(conn, queue: "restart")
        Self.report("PostgreSQL restart (\(modes.map(\.rawValue).joined(separator: ", ")))", runs: o.runs, jobs: jobs,
                    lost: jobs - o.distinctRuns, duplicated: o.duplicated, stuck: max(stuckSeen, o.notFinished))
        #expect(finished, "not every job completed: \(o)")
        #expect(o.distinctRuns == jobs && o.dead == 0 && o.notFinished == 0)
        #expect(stuckSeen == 0, "a job stayed processing past the visibility timeout")
        // Both workers survived the outages (they reconnect, they do not exit).
        let bothRunning = workers.allSatisfy { $0.isRunning }
        #expect(bothRunning)

        // Re-LISTENed: a job enqueued now is claimed through NOTIFY, not the next poll
        // (claim delay measured by the database: started_at - created_at).
        // Connection errors during the outage may have opened the queue's circuit breaker (by
        // design: retryable failures), in each worker at its own moment, and a worker honours an
        // open breaker written by the other: after one worker's probe job closed its breaker,
        // the other's could still hold the queue for the rest of its cool-down (a CI run measured
        // 6 s pickups that way). So: warm-up jobs until the shared breaker row says closed, then a
        // maintenance tick for every worker to adopt it, then measure.
        var warmUps = 0
        #expect(try PoolFixture.eventually(timeout: 120) {
            warmUps += 1
            let warmUp = try JobStore(connection: conn).enqueue(NewJob(queue: "restart", type: "ledger",
                                                                       payload: JSONText("{\"k\":\"warm-up-\(warmUps)\"}"))).id
            guard try PoolFixture.eventually(timeout: 60, {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = \(warmUp) AND status = 'completed'") == 1
            }) else { return false }
            return try PoolFixture.count(conn, "SELECT count(*)::int FROM circuit_breakers WHERE queue = 'restart' AND state <> 'closed'") == 0
        }, "the queue's circuit breaker never closed after the restarts")
        Thread.sleep(forTimeInterval: 2)
        var delays: [Double] = []
        for i in 0..<5 {
            let id = try JobStore(connection: conn).enqueue(NewJob(queue: "restart", type: "ledger",
                                                                   payload: JSONText("{\"k\":\"after-\(i)\"}"))).id
            _ = PoolFixture.eventually(timeout: 10) {
                (try? PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = \(id) AND started_at IS NOT NULL")) == 1
            }
            delays.append(try conn.query("""
                SELECT extract(epoch FROM started_at - created_at)::float8 FROM job_queue WHERE id = \(id)
                """).scalar(Double?.self) ?? .infinity)  // never claimed
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(delays.sorted()[2] < 0.3, "median pickup \(delays.sorted()[2]) s: the workers did not LISTEN again")
    }

    // MARK: poison job, runaway job

    @Test func aPoisonJobEndsInTheDLQAfterMaxAttemptsAndIsNotLooped() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("INSERT INTO queues (name, max_attempts, backoff_base_s) VALUES ('poison', 4, 0)")
            let jobs = JobStore(connection: conn)
            // simulate: every attempt fails with a retryable error.
            let poison = try jobs.enqueue(NewJob(queue: "poison", type: "simulate", payload: JSONText(
                #"{"latency_ms": {"p50": 1, "p99": 2}, "errors": {"smtp_error": 1}}"#))).id
            let healthy = try jobs.enqueue(NewJob(queue: "poison", type: "noop")).id
            let pool = PoolFixture.pool(db, queues: ["poison"], handlers: HandlerTable())
            try pool.start()
            defer { pool.stop(grace: 5) }
            #expect(try PoolFixture.eventually(timeout: 30) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = \(poison) AND status = 'dead_letter'") == 1
            })
            // Give a looping engine time to show itself, then count the attempts.
            Thread.sleep(forTimeInterval: 2)
            let attempts = try PoolFixture.count(conn, "SELECT count(*)::int FROM job_attempts WHERE job_id = \(poison)")
            let row = try conn.query("SELECT status, attempt_count, error_type FROM job_queue WHERE id = \(poison)")[0]
            #expect(try row.decode(0, as: String.self) == "dead_letter")
            #expect(try row.decode(1, as: Int.self) == 4)
            #expect(try row.decode(2, as: String.self) == "smtp_error")
            #expect(attempts == 4)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = \(healthy) AND status = 'completed'") == 1)
            Self.report("poison job (max_attempts 4)", runs: attempts, jobs: 2, lost: 0, duplicated: 0,
                        stuck: try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status IN ('pending', 'processing')"))
        }
    }

    @Test func aRunawayJobIsFailedAsTimeoutAndItsSlotFreed() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("INSERT INTO queues (name, max_attempts, backoff_base_s) VALUES ('runaway', 1, 0)")
            let jobs = JobStore(connection: conn)
            let marker = "31.\(Int.random(in: 100_000...999_999))"
            let runaway = try jobs.enqueue(NewJob(queue: "runaway", type: "hang")).id
            let handlers = HandlerTable(bindings: [
                "hang": CommandHandler(argv: ["/bin/sleep", marker], timeout: 1),
                "noop": NoopHandler(),
            ])
            // One slot: the job behind the runaway only runs if the runaway's slot is freed.
            let pool = PoolFixture.pool(db, queues: ["runaway"], concurrency: 1, batch: 1, handlers: handlers)
            try pool.start()
            defer { pool.stop(grace: 5) }
            Thread.sleep(forTimeInterval: 0.3)
            let next = try jobs.enqueue(NewJob(queue: "runaway", type: "noop")).id
            #expect(try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = \(next) AND status = 'completed'") == 1
            })
            let row = try conn.query("SELECT status, error_type FROM job_queue WHERE id = \(runaway)")[0]
            #expect(try row.decode(0, as: String.self) == "dead_letter")
            #expect(try row.decode(1, as: String?.self) == "timeout")
            // The child was killed, not left running.
            let leftover = try QueuetopBinary.output(of: "/usr/bin/pgrep", ["-f", "sleep \(marker)"])
            #expect(leftover.isEmpty, "the runaway child process is still running")
            Self.report("runaway job (timeout 1 s)", runs: 2, jobs: 2, lost: 0, duplicated: 0,
                        stuck: try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status IN ('pending', 'processing')"))
        }
    }

    // MARK: operators racing (real CLI processes)

    /// Two operators typing the same command at the same moment: two `queuetop` processes started
    /// from two threads. Returns both results once both have exited (or timed out).
    static func runTwiceAtOnce(_ arguments: [String]) -> [(status: Int32, stdout: String, stderr: String)] {
        let results = Locked<[(status: Int32, stdout: String, stderr: String)]>([])
        let threads = (0..<2).map { _ in
            Thread {
                let r = (try? QueuetopBinary.run(arguments, timeout: 120)) ?? (status: -1, stdout: "", stderr: "could not run")
                results.withLock { $0.append(r) }
            }
        }
        threads.forEach { $0.start() }
        _ = PoolFixture.eventually(timeout: 130) { results.withLock { $0.count } == 2 }
        return results.withLock { $0 }
    }

    @Test func twoOperatorsRequeueTheSameDLQGroupAtOnce() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        let n = 3_000
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try conn.execute("""
                SELECT fail_job(enqueue_job('race', 'send'), 'down', 'smtp_error', NULL, false) FROM generate_series(1, \(n))
                """)
            let results = Self.runTwiceAtOnce(["dlq", "requeue", "--queue", "race", "--error-type", "smtp_error",
                                               "--batch-size", "100", "--yes", "--json", "--db", db.conninfo])
            #expect(results.count == 2)
            var requeued = 0
            for r in results {
                #expect(r.status == 0, "\(r.stderr)")
                let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                requeued += json?["requeued"] as? Int ?? -1
            }
            #expect(requeued == n, "the counts the two operators saw add up to the group")
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE status = 'pending'") == n)
            #expect(try PoolFixture.count(conn, "SELECT sum(affected)::int FROM audit_log WHERE action = 'dlq.requeue'") == n)
            Self.report("two operators requeue one DLQ group", runs: 2, jobs: n, lost: 0, duplicated: requeued - n, stuck: 0)

            // Requeueing a job that is processing is refused and changes nothing.
            let claimed = try JobStore(connection: conn).claim(worker: "busy", queues: ["race"], max: 1)[0].id
            let refused = try QueuetopBinary.run(["dlq", "requeue", claimed.text, "--db", db.conninfo])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("is processing, not dead_letter"))
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM job_queue WHERE id = \(claimed) AND status = 'processing' AND locked_by = 'busy'") == 1)
        }
    }

    @Test func cancellingALeadMigrationTwiceAtOnceIsHarmless() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let run = UUID(), funnel = UUID(), column = UUID()
            try conn.execute("INSERT INTO extraction_runs (id, name) VALUES (\(run), 'chaos run')")
            try conn.execute("INSERT INTO funnels (id, name) VALUES (\(funnel), 'f')")
            try conn.execute("INSERT INTO funnel_columns (id, funnel_id, name) VALUES (\(column), \(funnel), 'c')")
            try conn.execute("INSERT INTO leads (run_id, name) SELECT \(run), 'lead ' || g FROM generate_series(1, 500) g")
            try conn.query("SELECT queue_lead_migration(\(run), \(funnel), \(column), 100)")
            let results = Self.runTwiceAtOnce(["leads", "cancel", run.uuidString.lowercased(), "--json", "--db", db.conninfo])
            #expect(results.count == 2)
            var cancelled: [Int] = []
            for r in results {
                #expect(r.status == 0, "\(r.stderr)")
                let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                cancelled.append(json?["cancelled"] as? Int ?? -1)
            }
            #expect(cancelled.sorted() == [0, 1])
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM bulk_operations WHERE status = 'cancelled'") == 1)
            #expect(try PoolFixture.count(conn, "SELECT count(*)::int FROM leads WHERE funnel_id IS NOT NULL") == 0)
            #expect(try PoolFixture.count(conn, "SELECT sum(affected)::int FROM audit_log WHERE action = 'lead_migration.cancel'") == 1)
        }
    }
}
}

/// A value shared between test threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
