// queuetop-bench: the two measurements of scripts/bench that need a clock inside the process.
//
//   queuetop-bench pickup URL JOBS GAP_MS
//       Idle pickup latency: an embedded WorkerPool (the same pool `queuetop worker` runs) works
//       queue `pickup`; JOBS jobs are enqueued one at a time, GAP_MS apart, each after the
//       previous one started. Latency = the handler starting - enqueue_jobs having returned
//       (the commit is known to the client). Both instants come from one monotonic clock.
//       Prints: p50_ms p99_ms max_ms count
//   queuetop-bench claim-probe URL QUEUE STOP_FILE
//       A worker's view of a concurrent bulk operation: claims up to 100 jobs of QUEUE and
//       completes them, in a loop, until STOP_FILE exists. Prints: max_ms p99_ms claims jobs
//       (max and p99 of the claim_jobs round trip). With QUEUETOP_PROBE_TRACE=FILE it also
//       writes one line per claim to FILE: wall-clock ms, claim ms, complete ms, jobs.
//   queuetop-bench contexts ROUNDS URL...
//       The all-contexts refresh: every URL's health summary read at once, each on its own
//       connection, and added up, against the slowest single context's whole-snapshot refresh
//       and the slowest single summary read. Prints one JSON object of medians (slowest_single_ms,
//       all_ms, beyond_ms = all - slowest single, beyond_summary_ms = all - slowest summary).
//   queuetop-bench search URL RUNS FILTER...
//       The job explorer's first page (50 jobs, newest first, the default window and 5 s timeout:
//       what `queuetop jobs list --where FILTER` asks) for each FILTER, RUNS times each after one
//       warm-up, on one connection, through the same JobSearchStore the CLI and the dashboard
//       call. Only the search is timed, not a process start or a connection. Prints one JSON
//       object: per filter the median and slowest ms, the jobs found, what a window read, and
//       the error if the search failed (a timeout, say).
// Only scripts/bench runs it; the figures go to docs/BENCHMARKS.md.
import Contexts
import Foundation
import JobFilter
import Postgres
import QueueStore
import Workers
import QueuetopLogging

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("queuetop-bench: \(message)\n".utf8))
    exit(2)
}

func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

/// The handler of the pickup run: records when each job started and wakes the enqueuer.
final class StartRecorder: JobHandler, @unchecked Sendable {  // state guarded by `condition`
    private let condition = NSCondition()
    private var started: [JobID: UInt64] = [:]
    var kind: String { "noop" }

    func handle(_ context: JobContext) -> JobOutcome {
        let at = nowNanos()
        condition.lock()
        started[context.job.id] = at
        condition.broadcast()
        condition.unlock()
        return .completed
    }

    /// When job `id` started, waiting up to `timeout` seconds.
    func waitForStart(of id: JobID, timeout: TimeInterval) -> UInt64? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while started[id] == nil {
            if !condition.wait(until: deadline) { break }
        }
        return started[id]
    }
}

func pickup(url: String, jobs: Int, gapMs: Int) throws {
    let config = try ConnectionConfig.resolve(explicit: url, environment: ProcessInfo.processInfo.environment)
    let recorder = StartRecorder()
    let pool = WorkerPool(configuration: WorkerPoolConfiguration(
        database: config, queues: ["pickup"], concurrency: 10, batchSize: 100,
        handlers: HandlerTable(bindings: ["pickup": recorder]),
        logger: .queuetop("bench.pool", level: .warning, to: [LineWriter(.standardError, format: .text)])))
    let producer = try Connection.connect(config)
    let store = JobStore(connection: producer)
    _ = try store.enqueue(NewJob(queue: "pickup", type: "pickup"))  // creates the queue; warms the pool
    try pool.start()
    Thread.sleep(forTimeInterval: 1.5)
    var latencies: [Double] = []
    for _ in 0..<jobs {
        let result = try store.enqueue(NewJob(queue: "pickup", type: "pickup"))
        let committed = nowNanos()
        guard let started = recorder.waitForStart(of: JobID(result.id), timeout: 10) else {
            pool.stop(grace: 1)
            fail("job \(result.id) did not start within 10 s")
        }
        // The handler may start before the client has read enqueue_jobs' answer: that is 0.
        latencies.append(started > committed ? Double(started - committed) / 1e6 : 0)
        usleep(useconds_t(gapMs * 1000))
    }
    pool.stop(grace: 5)
    producer.close()
    let sorted = latencies.sorted()
    print(String(format: "%.2f %.2f %.2f %d", percentile(sorted, 0.5), percentile(sorted, 0.99), sorted.last ?? .nan, sorted.count))
}

func claimProbe(url: String, queue: String, stopFile: String) throws {
    let connection = try Connection.connect(try ConnectionConfig.resolve(explicit: url, environment: ProcessInfo.processInfo.environment))
    let store = JobStore(connection: connection)
    var waits: [Double] = []
    var total = 0
    // QUEUETOP_PROBE_TRACE=FILE: one line per claim (wall-clock ms, claim ms, complete ms, jobs),
    // so a slow claim can be matched with what the server was waiting on at that moment.
    var trace = ""
    let tracePath = ProcessInfo.processInfo.environment["QUEUETOP_PROBE_TRACE"]
    while !FileManager.default.fileExists(atPath: stopFile) {
        let start = nowNanos()
        let claimed = try store.claim(worker: "bench-claim-probe", queues: [queue], max: 100)
        let claimMs = Double(nowNanos() - start) / 1e6
        waits.append(claimMs)
        if claimed.isEmpty { usleep(2_000); continue }
        total += claimed.count
        let completeStart = nowNanos()
        try store.complete(worker: "bench-claim-probe", ids: claimed.map(\.id))
        if tracePath != nil {
            trace += String(format: "%.0f %.2f %.2f %d\n", Date().timeIntervalSince1970 * 1000, claimMs,
                            Double(nowNanos() - completeStart) / 1e6, claimed.count)
        }
    }
    connection.close()
    if let tracePath { try trace.write(toFile: tracePath, atomically: true, encoding: .utf8) }
    let sorted = waits.sorted()
    print(String(format: "%.2f %.2f %d %d", sorted.last ?? .nan, percentile(sorted, 0.99), sorted.count, total))
}

/// The all-contexts refresh (issue 21): each context's summary (`HealthSummary`, what the all
/// view reads) read on its own connection, all at once (`FanOut`, as `status --all-contexts`
/// does), then added up (`HealthSum`); against the slowest single context's refresh (its whole
/// snapshot read and decoded, what the dashboard on one context does) and the slowest single
/// summary read, in the same round. Prints one JSON object: medians over ROUNDS.
func contextsRefresh(rounds: Int, urls: [String]) throws {
    let connections = try urls.map { try Connection.connect(try ConnectionConfig($0)) }
    defer { connections.forEach { $0.close() } }
    @Sendable func readSnapshot(_ conn: Connection) -> HealthSnapshot? {
        // The dashboard's refresh: the snapshot without per-type figures.
        try? conn.readOnlyTransaction { try HealthStore(connection: $0).snapshot(types: .none).snapshot }
    }
    @Sendable func readSummary(_ conn: Connection) -> HealthSummary? {
        try? conn.readOnlyTransaction { try HealthStore(connection: $0).summary() }
    }
    func timed(_ body: () -> Bool) -> Double {
        let start = nowNanos()
        guard body() else { fail("a context did not answer") }
        return Double(nowNanos() - start) / 1e6
    }
    var slowest: [Double] = [], slowestSummary: [Double] = [], all: [Double] = [], beyond: [Double] = [],
        beyondSummary: [Double] = [], sequential: [Double] = []
    for round in 0..<(rounds + 2) {  // two warm-up rounds
        let singles = connections.map { conn in timed { readSnapshot(conn) != nil } }
        let summaries = connections.map { conn in timed { readSummary(conn) != nil } }
        let wall = timed {
            let read = FanOut.map(Array(connections.enumerated())) { i, conn in readSummary(conn).map { ("c\(i)", $0) } }
            let answered = read.compactMap { $0 }
            _ = (HealthSum.totals(answered), HealthSum.perContext(answered), HealthSum.perQueue(answered), HealthSum.alerts(answered))
            return answered.count == connections.count
        }
        guard round >= 2 else { continue }
        sequential.append(summaries.reduce(0, +))
        slowest.append(singles.max()!)
        slowestSummary.append(summaries.max()!)
        all.append(wall)
        beyond.append(wall - singles.max()!)
        beyondSummary.append(wall - summaries.max()!)
    }
    // queuetop's own share, without any server: decoding the ten summaries and adding them up,
    // one after the other on this thread; and, for comparison, the same from ten whole snapshots
    // (what the all view decoded before it read summaries).
    let summaryTexts = try connections.map { try HealthStore(connection: $0).summaryJSON() }
    let snapshotTexts = try connections.map { try HealthStore(connection: $0).snapshotJSON() }
    var client: [Double] = [], clientWhole: [Double] = []
    for _ in 0..<rounds {
        client.append(timed {
            guard let decoded = try? summaryTexts.enumerated().map({ ("c\($0.offset)", try HealthSummary.decode(json: $0.element)) }) else { return false }
            _ = (HealthSum.totals(decoded), HealthSum.perContext(decoded), HealthSum.perQueue(decoded), HealthSum.alerts(decoded))
            return true
        })
        clientWhole.append(timed {
            guard let decoded = try? snapshotTexts.enumerated().map({ ("c\($0.offset)", try HealthSnapshot.decode(json: $0.element).summary) }) else { return false }
            _ = (HealthSum.totals(decoded), HealthSum.perContext(decoded), HealthSum.perQueue(decoded), HealthSum.alerts(decoded))
            return true
        })
    }
    func median(_ v: [Double]) -> Double { percentile(v.sorted(), 0.5) }
    let bytes = (summaryTexts.map(\.utf8.count).reduce(0, +), snapshotTexts.map(\.utf8.count).reduce(0, +))
    print(String(format: "{\"contexts\": %d, \"rounds\": %d, \"slowest_single_ms\": %.2f, \"slowest_summary_ms\": %.2f, \"sequential_ms\": %.2f, \"all_ms\": %.2f, \"beyond_ms\": %.2f, \"beyond_p95_ms\": %.2f, \"beyond_summary_ms\": %.2f, \"ratio\": %.3f, \"client_ms\": %.2f, \"client_whole_ms\": %.2f, \"summary_bytes\": %d, \"snapshot_bytes\": %d, \"cores\": %d}",
                 urls.count, rounds, median(slowest), median(slowestSummary), median(sequential), median(all), median(beyond),
                 percentile(beyond.sorted(), 0.95), median(beyondSummary), median(all) / median(slowest), median(client),
                 median(clientWhole), bytes.0, bytes.1, ProcessInfo.processInfo.activeProcessorCount))
}

/// The first page of each filter, timed in-process (see the comment at the top).
func searchFirstPages(url: String, runs: Int, filters: [String]) throws {
    let connection = try Connection.connect(try ConnectionConfig(url))
    defer { connection.close() }
    let store = JobSearchStore(connection: connection)
    var rows: [[String: Any]] = []
    for text in filters {
        let filter: JobFilter
        do { filter = try JobFilter.parse(text) } catch { fail("search: bad filter \(text.debugDescription): \(error)") }
        let request = JobSearchRequest(filter: filter)
        var row: [String: Any] = ["filter": text]
        var times: [Double] = []
        var last: JobSearchPage?
        for n in 0..<(runs + 1) {  // the first run warms the plan cache and the buffers
            let start = nowNanos()
            do {
                last = try store.search(request)
            } catch {
                row["error"] = "\(error)"
                break
            }
            if n > 0 { times.append(Double(nowNanos() - start) / 1e6) }
        }
        if row["error"] == nil, let page = last {
            let sorted = times.sorted()
            row["median_ms"] = (percentile(sorted, 0.5) * 100).rounded() / 100
            row["max_ms"] = ((sorted.last ?? .nan) * 100).rounded() / 100
            row["jobs"] = page.jobs.count
            if let w = page.window { row["rows_read"] = w.rowsRead; row["window_full"] = w.truncated }
        }
        rows.append(row)
    }
    let out: [String: Any] = ["runs": runs, "filters": rows]
    let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

let args = CommandLine.arguments
do {
    switch args.dropFirst().first {
    case "pickup" where args.count == 5:
        guard let jobs = Int(args[3]), jobs > 0, let gap = Int(args[4]), gap >= 0 else { fail("pickup: JOBS > 0 and GAP_MS >= 0") }
        try pickup(url: args[2], jobs: jobs, gapMs: gap)
    case "claim-probe" where args.count == 5:
        try claimProbe(url: args[2], queue: args[3], stopFile: args[4])
    case "contexts" where args.count >= 4:
        guard let rounds = Int(args[2]), rounds > 0 else { fail("contexts: ROUNDS > 0") }
        try contextsRefresh(rounds: rounds, urls: Array(args.dropFirst(3)))
    case "search" where args.count >= 5:
        guard let runs = Int(args[3]), runs > 0 else { fail("search: RUNS > 0") }
        try searchFirstPages(url: args[2], runs: runs, filters: Array(args.dropFirst(4)))
    default:
        fail("usage: queuetop-bench pickup URL JOBS GAP_MS | claim-probe URL QUEUE STOP_FILE | contexts ROUNDS URL... | search URL RUNS FILTER...")
    }
} catch {
    fail("\(error)")
}
