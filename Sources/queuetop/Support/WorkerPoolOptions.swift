import ArgumentParser
import Foundation
import Logging
import Postgres
import QueuetopMetrics
import Workers

/// The worker-pool options `queuetop worker` and `queuetop dash` share, and how they become a
/// configured `WorkerPool`.
struct WorkerPoolOptions: ParsableArguments {
    static let configVariable = "QUEUETOP_WORKER_CONFIG"

    @Option(name: .long, help: ArgumentHelp("Queues to work, comma-separated (default: every queue).", valueName: "a,b"))
    var queues: String?

    @Option(name: .long, help: "Handler threads: jobs run at once by this process.")
    var concurrency = 10

    @Option(name: .long, help: "Most jobs per claim round trip; up to two batches are claimed ahead of free handler slots (claimed jobs that never started are not rerun after a crash).")
    var batchSize = 500

    @Option(name: .long, help: ArgumentHelp(
        "Most jobs a crash (kill -9) can run twice: running + handled whose results are not committed yet; more than --concurrency (default: concurrency + 2 x max(batch-size, concurrency), 1010 at the defaults). Smaller reruns fewer, drains fast jobs slower.",
        valueName: "jobs"))
    var rerunWindow: Int?

    @Option(name: .long, help: "Claiming threads, each with its own connection (2 helps a deep backlog when concurrency >= 2 batches).")
    var claimers = 1

    @Option(name: .long, help: "Seconds a job claimed ahead of a free handler slot may wait before it is released back (0: claim only free slots). Fast jobs are claimed a batch at a time.")
    var prefetchWait: Double = 1

    @Option(name: .long, help: "VACUUM job_queue after this many jobs claimed by this worker, e.g. 5000 under a steady producer (default 0: leave it to autovacuum; only roles allowed to VACUUM it do).")
    var vacuumAfter = 0

    @Option(name: .long, help: ArgumentHelp("Handler config file (JSON).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "Seconds running jobs get to finish at shutdown before they are released.")
    var grace: Double = 30

    func validate() throws {
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 10000") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
        if let rerunWindow, !(concurrency + 1...10_000_000).contains(rerunWindow) {
            throw ValidationError("--rerun-window must be more than --concurrency (\(concurrency)), so a handled result can wait for its write, and at most 10000000")
        }
        guard (1...8).contains(claimers) else { throw ValidationError("--claimers must be between 1 and 8") }
        guard (0...60).contains(prefetchWait) else { throw ValidationError("--prefetch-wait must be between 0 and 60 seconds") }
        guard vacuumAfter >= 0 else { throw ValidationError("--vacuum-after must be 0 or more jobs") }
        guard grace >= 0 else { throw ValidationError("--grace must be 0 or more seconds") }
        // An empty list is not "every queue" (leave --queues out for that): "" or "a,,b" is a typo.
        if let queues, queues.split(separator: ",", omittingEmptySubsequences: false)
            .contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            // Exit 1 with one line, like every other bad input (not a usage error's 64).
            throw CLIError("--queues \(queues.debugDescription): every queue name must be non-empty "
                           + "(leave --queues out to work every queue)")
        }
    }

    /// Loads the handler config (checking secrets, URLs, programs) and builds the pool; nothing
    /// is started. Config warnings go to `logger`.
    func makePool(database: ConnectionConfig, logger: Logger, metrics: WorkerMetrics? = nil) throws -> WorkerPool {
        let configPath = config ?? ProcessInfo.processInfo.environment[Self.configVariable].flatMap { $0.isEmpty ? nil : $0 }
        let file: WorkerConfigFile
        do {
            file = try configPath.map { try WorkerConfigFile.load(path: $0, database: database) }
                ?? WorkerConfigFile.defaults(database: database)
        } catch let error as WorkerConfigError {
            throw CLIError("bad worker config: \(error.message)")
        }
        for warning in file.warnings { logger.warning("\(warning)") }
        let queueList = queues?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var configuration = WorkerPoolConfiguration(
            database: database, queues: queueList, concurrency: concurrency, batchSize: batchSize,
            maxUnwrittenResults: rerunWindow.map { $0 - concurrency }, claimers: claimers,
            prefetchWait: prefetchWait, vacuumAfterClaims: vacuumAfter, handlers: file.handlers, breaker: file.breaker,
            alertHookSecrets: file.alertHookSecrets, logger: logger)
        configuration.metrics = metrics
        return WorkerPool(configuration: configuration)
    }
}
