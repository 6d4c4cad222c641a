import Foundation
import Testing
import Postgres
import QueueStore
import TestSupport
@testable import Workers

/// The issue's requirement, end to end: "An existing install in public is moved by a migration
/// that keeps every row and works while workers run."
///
/// An install from before 0013 lives in `public` (built as the 0012-era `queuetop migrate` built
/// it: LegacyInstall). Two real `queuetop worker` processes of this build work its queue while a
/// producer enqueues a steady stream; halfway through, the real `queuetop migrate` moves the
/// install into `queuetop` in one transaction. Every handler run is written to a ledger in
/// `public` (which the move leaves alone), naming the worker that ran it. Afterwards: every job
/// ran exactly once (no worker died, so the at-least-once window of docs/WORKERS.md is empty),
/// every row is in queuetop.job_queue, nothing of queuetop is left in public, both workers are
/// alive, registered and still working, and their logs show no error after the move settled.
extension PoolTests {
@Suite("live schema move under running workers")
struct LiveSchemaMoveTests {
    static let streamJobs = 2_000
    static let batchSize = 20
    static let batchInterval = 0.06  // 100 batches of 20 over ~6 s
    static let afterJobs = 100
    static let probes = 5

    /// A ledger of handler runs in `public`, one handler function per worker process so each row
    /// says which process ran the job (the `sql` handler passes only the payload).
    static let ledgerSQL = """
        CREATE TABLE public.move_ledger (k text NOT NULL, worker text NOT NULL,
                                         ran_at timestamptz NOT NULL DEFAULT clock_timestamp());
        CREATE FUNCTION public.move_ledger_a(payload jsonb) RETURNS void LANGUAGE sql AS $$
          INSERT INTO public.move_ledger (k, worker) VALUES (payload->>'k', 'a');
          SELECT pg_sleep(coalesce((payload->>'sleep_s')::float8, 0));
        $$;
        CREATE FUNCTION public.move_ledger_b(payload jsonb) RETURNS void LANGUAGE sql AS $$
          INSERT INTO public.move_ledger (k, worker) VALUES (payload->>'k', 'b');
          SELECT pg_sleep(coalesce((payload->>'sleep_s')::float8, 0));
        $$;
        """

    /// Enqueues the stream in batches through the product's client path (JobStore over a
    /// ManagedConnection resolving the schema per link), as an application producer would. A
    /// batch that fails rolled back, so it is simply sent again; the errors are kept.
    final class Producer: @unchecked Sendable {  // state guarded by lock
        private let lock = NSLock()
        private var _errors: [String] = []
        private var _commits: [Date] = []  // one per batch, in order
        private let done = DispatchSemaphore(value: 0)
        let config: ConnectionConfig

        init(config: ConnectionConfig) { self.config = config }

        var errors: [String] { lock.withLock { _errors } }
        var commits: [Date] { lock.withLock { _commits } }

        func start() {
            Thread { self.run(); self.done.signal() }.start()
        }

        func wait(timeout: TimeInterval) -> Bool { done.wait(timeout: .now() + timeout) == .success }

        private func run() {
            let link = ManagedConnection(config: config)
            defer { link.drop() }
            let started = Date()
            let batches = LiveSchemaMoveTests.streamJobs / LiveSchemaMoveTests.batchSize
            for b in 0..<batches {
                let jobs = (0..<LiveSchemaMoveTests.batchSize).map { i in
                    NewJob(queue: "move", type: "ledger",
                           payload: JSONText("{\"k\":\"stream-\(b * LiveSchemaMoveTests.batchSize + i)\",\"sleep_s\":0.03}"))
                }
                let deadline = Date().addingTimeInterval(20)
                while true {
                    do {
                        _ = try link.run { try JobStore(connection: $0).enqueue(jobs) }
                        lock.withLock { _commits.append(Date()) }
                        break
                    } catch {
                        lock.withLock { _errors.append(String(describing: error).replacingOccurrences(of: "\n", with: " ")) }
                        if Date() > deadline { return }
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                }
                let next = started.addingTimeInterval(Double(b + 1) * LiveSchemaMoveTests.batchInterval)
                let wait = next.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
        }
    }

    static func logLines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func isProblem(_ line: String) -> Bool { line.contains(" ERROR ") || line.contains(" WARNING ") }

    @Test func migrateMovesPublicInstallWhileWorkersRun() throws {
        guard PoolFixture.binaryIsBuilt else { return }
        let testStarted = Date()
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            defer { conn.close() }
            // A real database's default search_path is "$user", public (TestDatabase pins
            // pg_catalog for product-code tests); the 0012-era install relied on it.
            try conn.executeScript("ALTER DATABASE \"\(db.name)\" RESET search_path")
            try LegacyInstall.installInPublic(on: conn)
            try conn.executeScript(Self.ledgerSQL)
            // Visibility 30 s: no live worker's job is ever rescued during the test, so a
            // duplicate could only come from the move itself.
            try conn.execute("""
                INSERT INTO public.queues (name, visibility_timeout_s, backoff_base_s, max_attempts)
                VALUES ('move', 30, 0, 1000)
                """)

            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-move-\(UUID())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var workers: [Process] = []
            var logs: [String] = []
            for name in ["a", "b"] {
                let config = dir.appendingPathComponent("\(name).json").path
                try #"{"handlers": {"ledger": {"kind": "sql", "function": "public.move_ledger_\#(name)", "timeout_s": 10}}}"#
                    .write(toFile: config, atomically: true, encoding: .utf8)
                let log = dir.appendingPathComponent("\(name).log").path
                logs.append(log)
                workers.append(try PoolFixture.spawnWorker(conninfo: db.conninfo, queues: ["move"], config: config,
                                                           log: log, concurrency: 8, batch: 20))
            }
            defer { for w in workers { PoolFixture.stopWorker(w, timeout: 5) } }
            let pids = workers.map { Int($0.processIdentifier) }
            #expect(try PoolFixture.eventually(timeout: 15) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM public.workers WHERE pid = ANY(\(pids)) AND status = 'running'") == 2
            }, "both workers registered in the install in public")

            // The stream starts (each job takes 30 ms: the 16 slots are kept about 60 % busy); 2.5 s
            // in (about 800 jobs enqueued, most done), the real binary migrates while jobs are
            // pending, running and being completed.
            let producer = Producer(config: db.config)
            producer.start()
            Thread.sleep(forTimeInterval: 2.5)
            // This build works the install in public without a complaint until the move.
            let problemsBeforeMove = logs.flatMap(Self.logLines).filter(Self.isProblem)
            #expect(problemsBeforeMove.isEmpty, "before the move: \(problemsBeforeMove)")
            let doneBeforeMove = try PoolFixture.count(conn, "SELECT count(*)::int FROM public.job_queue WHERE status = 'completed'")
            let heldAtMove = try PoolFixture.count(conn, "SELECT count(*)::int FROM public.job_queue WHERE status = 'processing'")
            let moveStarted = Date()
            let migrate = try QueuetopBinary.run(["migrate"], environment: ["DATABASE_URL": db.conninfo], timeout: 30)
            let moveEnded = Date()
            #expect(migrate.status == 0, "queuetop migrate failed under load: \(migrate.stderr)")
            #expect(migrate.stdout.contains("applied  0013_own_schema.sql"), "\(migrate.stdout)")
            #expect(producer.wait(timeout: 30), "the producer finished its stream")
            let commits = producer.commits
            #expect(commits.count * Self.batchSize == Self.streamJobs, "every batch was enqueued")
            let batchesBefore = commits.filter { $0 < moveStarted }.count
            let batchesDuring = commits.filter { $0 >= moveStarted && $0 <= moveEnded }.count
            let batchesAfter = commits.count - batchesBefore - batchesDuring
            #expect(batchesBefore > 0 && batchesAfter > 0, "the move happened mid-stream")
            #expect(doneBeforeMove > 0 && heldAtMove > 0, "workers were completing and holding jobs when the move began")
            // A producer batch sent while the move holds its locks may fail once (its statement
            // resolved a public name the move then took away); it rolled back and was resent.
            // Anything else is a real failure.
            let producerErrors = producer.errors
            #expect(producerErrors.allSatisfy { $0.contains("does not exist") }, "\(producerErrors)")

            // Every streamed job completes, then the move has settled: from here on nothing new
            // may appear in the workers' logs.
            let streamDone = try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM queuetop.job_queue WHERE status = 'completed'") == Self.streamJobs
            }
            if !streamDone {
                for log in logs { print("worker log \(log), last lines:\n" + Self.logLines(log).suffix(8).joined(separator: "\n")) }
            }
            try #require(streamDone, "every streamed job completed")
            let settle = moveEnded.addingTimeInterval(2).timeIntervalSinceNow
            if settle > 0 { Thread.sleep(forTimeInterval: settle) }
            let atMove = logs.map { Self.logLines($0).filter(Self.isProblem) }
            let marks = logs.map { Self.logLines($0).count }

            // After the move: 100 more jobs, through a new client (it finds schema queuetop), each
            // taking 0.1 s so that neither worker (8 slots each) can take them all: both must run some.
            let after = try Connection.connect(db.config)
            defer { after.close() }
            #expect(after.schema == "queuetop")
            _ = try JobStore(connection: after).enqueue((0..<Self.afterJobs).map {
                NewJob(queue: "move", type: "ledger", payload: JSONText("{\"k\":\"after-\($0)\",\"sleep_s\":0.1}"))
            })
            var total = Self.streamJobs + Self.afterJobs
            let allDone = try PoolFixture.eventually(timeout: 20) {
                try PoolFixture.count(conn, "SELECT count(*)::int FROM queuetop.job_queue WHERE status = 'completed'") == total
            }
            try #require(allDone, "the jobs enqueued after the move completed")
            // The listeners kept their connections (LISTEN never fails): the channel is global,
            // and the moved install's triggers still NOTIFY it. Single jobs, each sent while the
            // workers idle, are picked up at once, not at the next 1 s poll.
            for i in 0..<Self.probes {
                _ = try JobStore(connection: after).enqueue(NewJob(queue: "move", type: "ledger", payload: JSONText("{\"k\":\"probe-\(i)\"}")))
                #expect(try PoolFixture.eventually(timeout: 5) {
                    try PoolFixture.count(conn, "SELECT count(*)::int FROM public.move_ledger WHERE k = \("probe-\(i)")") == 1
                })
                Thread.sleep(forTimeInterval: 0.15)
            }
            let pickup: Double = try conn.query("""
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.ran_at - j.created_at))::float8
                  FROM queuetop.job_queue j JOIN public.move_ledger l ON l.k = j.payload->>'k'
                 WHERE l.k LIKE 'probe-%'
                """).scalar()
            #expect(pickup < 0.3, "after the move, jobs wait for the poll instead of NOTIFY: median pickup \(pickup) s")
            total += Self.probes
            Thread.sleep(forTimeInterval: 2)  // heartbeats, settings refreshes, schedule ticks: any error would repeat by now

            // Rows: all in queuetop.job_queue, none lost, none left pending or processing, none twice.
            let row = try conn.query("""
                SELECT count(*)::int AS jobs,
                       count(*) FILTER (WHERE status = 'completed')::int AS completed,
                       count(*) FILTER (WHERE status IN ('pending', 'processing'))::int AS unfinished,
                       count(*) FILTER (WHERE status NOT IN ('completed', 'pending', 'processing'))::int AS other,
                       count(DISTINCT payload->>'k')::int AS keys,
                       (SELECT count(*)::int FROM public.move_ledger) AS runs,
                       (SELECT count(DISTINCT k)::int FROM public.move_ledger) AS distinct_runs,
                       (SELECT count(DISTINCT worker)::int FROM public.move_ledger WHERE k LIKE 'after-%') AS after_workers
                  FROM queuetop.job_queue
                """)[0]
            let jobs: Int = try row.decode("jobs"), completed: Int = try row.decode("completed")
            let unfinished: Int = try row.decode("unfinished"), other: Int = try row.decode("other")
            let keys: Int = try row.decode("keys"), runs: Int = try row.decode("runs")
            let distinctRuns: Int = try row.decode("distinct_runs"), afterWorkers: Int = try row.decode("after_workers")
            #expect(jobs == total && keys == total, "every enqueued job is a row of queuetop.job_queue, once")
            #expect(completed == total && unfinished == 0 && other == 0)
            #expect(distinctRuns == total, "every job's handler ran")
            // No worker died and no lease expired, so the at-least-once window is empty.
            #expect(runs - distinctRuns == 0, "jobs run twice across the move")
            #expect(afterWorkers == 2, "both workers ran jobs enqueued after the move")

            // Nothing of queuetop left in public: only the test's ledger remains there.
            let leftInPublic: [String] = try conn.query("""
                SELECT relname::text AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname <> 'move_ledger'
                UNION ALL
                SELECT proname::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname NOT LIKE 'move_ledger_%'
                UNION ALL
                SELECT typname::text FROM pg_type WHERE typnamespace = 'public'::regnamespace
                   AND typname NOT IN ('move_ledger', '_move_ledger')
                """).map { try $0.decode("name") }
            #expect(leftInPublic.isEmpty, "left in public: \(leftInPublic)")
            let recorded: Int = try PoolFixture.count(conn,
                "SELECT count(*)::int FROM queuetop.schema_migrations WHERE name < '0013'")
            #expect(recorded == 12, "the 0012-era bookkeeping moved with the install")

            // Both processes alive and active in the registry they now heartbeat in queuetop.
            let alive = workers.allSatisfy { $0.isRunning }
            #expect(alive, "a worker process exited")
            #expect(try PoolFixture.count(conn, """
                SELECT count(*)::int FROM queuetop.workers
                 WHERE pid = ANY(\(pids)) AND status = 'running' AND last_seen > now() - interval '3 seconds'
                """) == 2, "both workers are active in queuetop.workers")

            // Logs: errors only at the move, none standing after it.
            let standing = zip(logs, marks).flatMap { log, mark in Self.logLines(log).dropFirst(mark).filter(Self.isProblem) }
            #expect(standing.isEmpty, "errors after the move settled: \(standing)")
            let errorsAtMove = atMove.flatMap { $0 }
            // At the move each of a worker's database threads that uses its connection then
            // (fetcher, completer, maintenance, schedules, alerts; retention only if its minute
            // check falls there) sends one statement naming `public` after the move committed:
            // it fails with 42883/42P01 "does not exist", DatabaseSlot drops that connection, and
            // the next one resolves `queuetop`. (A statement that was already waiting on the
            // move's locks fails the same way once they are released.) So: only that error, at
            // most once per thread of each worker — typically 5 per worker, 10 in all.
            // A thread may also be the victim of a deadlock with the move (the move locks tables one
            // at a time; a worker's transaction reads several): the server aborts it, it retries,
            // and it is not counted as its one error. (When the move is the victim, migrate runs
            // its one transaction again: MigrationRunner.runInstall.)
            let isDeadlock = { (line: String) in line.contains(" ERROR ") && line.contains("deadlock detected") }
            let threads = zip(["a", "b"], atMove).flatMap { worker, lines in
                lines.filter { !isDeadlock($0) }
                    .map { line in "\(worker)/" + (line.split(separator: " ").dropFirst(2).first.map(String.init) ?? "?") }
            }
            #expect(errorsAtMove.allSatisfy { ($0.contains(" ERROR ") && $0.contains("does not exist")) || isDeadlock($0) },
                    "\(errorsAtMove)")
            #expect(Set(threads).count == threads.count, "a thread failed more than once at the move: \(threads.sorted())")

            let stopped = workers.map { PoolFixture.stopWorker($0) }
            #expect(stopped.allSatisfy { $0 } && workers.allSatisfy { $0.terminationStatus == 0 }, "workers stop cleanly after the move")
            #expect(try PoolFixture.count(conn,
                "SELECT count(*)::int FROM queuetop.workers WHERE pid = ANY(\(pids)) AND status = 'stopped'") == 2)

            print("""
                SCHEMA MOVE | jobs \(total) (\(batchesBefore * Self.batchSize) before the move, \
                \(batchesDuring * Self.batchSize) during, \(batchesAfter * Self.batchSize) after, \(Self.afterJobs) + \(Self.probes) once settled) \
                | completed \(completed) | lost \(total - distinctRuns) | duplicates \(runs - distinctRuns) \
                | pickup after \(String(format: "%.3f", pickup)) s | migrate \(String(format: "%.2f", moveEnded.timeIntervalSince(moveStarted))) s with \(doneBeforeMove) done and \(heldAtMove) held as it began \
                | worker errors at the move \(errorsAtMove.count) \(threads.sorted()) | producer retries \(producerErrors.count) \
                | test \(String(format: "%.1f", Date().timeIntervalSince(testStarted))) s
                """)
            for line in errorsAtMove { print("  at the move: \(line.prefix(240))") }
            for line in producerErrors { print("  producer: \(line.prefix(240))") }
        }
    }
}
}
