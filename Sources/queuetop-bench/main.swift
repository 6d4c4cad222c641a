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
//       (max and p99 of the claim_jobs round trip).
//   queuetop-bench contexts ROUNDS URL...
//       The all-contexts refresh: every URL's health snapshot read at once, each on its own
//       connection, and added up, against the slowest of the same reads one at a time. Prints
//       one JSON object of medians (slowest_single_ms, all_ms, beyond_ms = all - slowest).
// Only scripts/bench runs it; the figures go to docs/BENCHMARKS.md.
import Contexts
import Foundation
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
    while !FileManager.default.fileExists(atPath: stopFile) {
        let start = nowNanos()
        let claimed = try store.claim(worker: "bench-claim-probe", queues: [queue], max: 100)
        waits.append(Double(nowNanos() - start) / 1e6)
        if claimed.isEmpty { usleep(2_000); continue }
        total += claimed.count
        try store.complete(worker: "bench-claim-probe", ids: claimed.map(\.id))
    }
    connection.close()
    let sorted = waits.sorted()
    print(String(format: "%.2f %.2f %d %d", sorted.last ?? .nan, percentile(sorted, 0.99), sorted.count, total))
}

/// The all-contexts refresh (issue 21): each context's snapshot read on its own connection, all
/// at once (`FanOut`, as `status --all-contexts` does), then added up (`HealthSum`); against the
/// slowest of the same reads made one at a time. Prints one JSON object: medians over ROUNDS.
func contextsRefresh(rounds: Int, urls: [String]) throws {
    let connections = try urls.map { try Connection.connect(try ConnectionConfig($0)) }
    defer { connections.forEach { $0.close() } }
    @Sendable func read(_ conn: Connection) -> HealthSnapshot? {
        try? conn.readOnlyTransaction { try HealthStore(connection: $0).snapshot().snapshot }
    }
    var slowest: [Double] = [], all: [Double] = [], beyond: [Double] = [], sequential: [Double] = [], client: [Double] = []
    for round in 0..<(rounds + 2) {  // two warm-up rounds
        var singles: [Double] = []
        for conn in connections {
            let start = nowNanos()
            guard read(conn) != nil else { fail("a context did not answer") }
            singles.append(Double(nowNanos() - start) / 1e6)
        }
        let start = nowNanos()
        let snapshots = FanOut.map(Array(connections.enumerated())) { i, conn in read(conn).map { ("c\(i)", $0) } }
        let answered = snapshots.compactMap { $0 }
        guard answered.count == connections.count else { fail("a context did not answer") }
        _ = (HealthSum.totals(answered), HealthSum.perContext(answered), HealthSum.perQueue(answered), HealthSum.alerts(answered))
        let wall = Double(nowNanos() - start) / 1e6
        guard round >= 2 else { continue }
        sequential.append(singles.reduce(0, +))
        slowest.append(singles.max()!)
        all.append(wall)
        beyond.append(wall - singles.max()!)
    }
    // queuetop's own share, without any server: decoding the ten snapshots and adding them up,
    // one after the other on this thread (what the fan-out adds beyond the reads themselves).
    let texts = try connections.map { try HealthStore(connection: $0).snapshotJSON() }
    for _ in 0..<rounds {
        let start = nowNanos()
        let decoded = try texts.enumerated().map { ("c\($0.offset)", try HealthSnapshot.decode(json: $0.element)) }
        _ = (HealthSum.totals(decoded), HealthSum.perContext(decoded), HealthSum.perQueue(decoded), HealthSum.alerts(decoded))
        client.append(Double(nowNanos() - start) / 1e6)
    }
    func median(_ v: [Double]) -> Double { percentile(v.sorted(), 0.5) }
    print(String(format: "{\"contexts\": %d, \"rounds\": %d, \"slowest_single_ms\": %.2f, \"sequential_ms\": %.2f, \"all_ms\": %.2f, \"beyond_ms\": %.2f, \"beyond_p95_ms\": %.2f, \"ratio\": %.3f, \"client_ms\": %.2f, \"cores\": %d}",
                 urls.count, rounds, median(slowest), median(sequential), median(all), median(beyond), percentile(beyond.sorted(), 0.95),
                 median(all) / median(slowest), median(client), ProcessInfo.processInfo.activeProcessorCount))
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
    default:
        fail("usage: queuetop-bench pickup URL JOBS GAP_MS | claim-probe URL QUEUE STOP_FILE | contexts ROUNDS URL...")
    }
} catch {
    fail("\(error)")
}
