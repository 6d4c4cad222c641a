import Foundation
import Postgres
import Logging
import QueuetopLogging
import QueuetopMetrics

public struct WorkerPoolConfiguration: Sendable {
    public var database: ConnectionConfig
    /// Queues to work; nil means every queue.
    public var queues: [String]?
    /// Handler threads, and the most jobs this process holds claimed at once.
    public var concurrency: Int
    /// Most jobs per claim_jobs round trip; the prefetch buffer holds at most two of them beyond
    /// the free handler slots. 500 by default: a claim of 500 commits a fifth as often per job as
    /// one of 100 (docs/BENCHMARKS-defaults.md). Jobs claimed and not started never ran, so the
    /// batch does not widen what a crash can run twice; `maxUnwrittenResults` does.
    public var batchSize: Int
    /// Handled jobs whose results are not committed yet, at most: with `concurrency`, the most a
    /// crash can run twice (`atLeastOnceWindow`). A handler does not start while running +
    /// unwritten would pass that window, and the pool stops claiming while this many results wait.
    /// It sets a fast drain's pace: a `complete_jobs` round trip costs about the same for 1 job as
    /// for 200 (its commit's WAL flush), so the results one write can carry, and whether the next
    /// claim's jobs can run while it is in flight, decide how many jobs a round trip completes
    /// (docs/WORKERS.md "The window"). Callers choose it with `--rerun-window` (window minus
    /// concurrency).
    public var maxUnwrittenResults: Int
    /// Running plus handled-but-unwritten jobs, at most: what a kill -9 can run twice.
    public var atLeastOnceWindow: Int { concurrency + maxUnwrittenResults }
    /// The default `maxUnwrittenResults`: 2 × max(batch, concurrency), two claims' worth, so one
    /// batch's results are written while the next batch runs: 1,000 at the defaults (10, 500: a
    /// window of 1,010), 2,000 at 1000 / 500 (3,000), 200 at 10 / 100 (210). Branches fast2 and
    /// fast3 capped the batch's part at 100 (a window of 210 at the defaults); with one write of
    /// ≤ 200 results per round trip a default worker drained at ~35 % of the raw-SQL limit, and one
    /// batch's worth without the overlap (510) was no faster than 210 (docs/BENCHMARKS-defaults.md).
    public static func defaultMaxUnwrittenResults(concurrency: Int, batchSize: Int) -> Int {
        2 * max(batchSize, concurrency)
    }
    /// The longest a claimed job may wait for a handler slot before it is released back to
    /// pending (seconds; 0: claim only free slots, no prefetch buffer). Jobs that finish fast are
    /// claimed a batch at a time, up to `batchSize` beyond the free slots (Prefetch.swift).
    public var prefetchWait: TimeInterval
    /// Up to two batches beyond the free slots, so the next batch is claimed while the last one
    /// still waits for room in the at-least-once window (Prefetch.swift).
    var prefetch: PrefetchPolicy { PrefetchPolicy(maxWait: prefetchWait, limit: Self.prefetchBatches * batchSize) }
    /// Batches the prefetch buffer may hold: 2 keeps one claim always in flight in a fast drain
    /// (docs/WORKERS.md "Claiming ahead"; scripts/bench.d/NOTES.md part 5).
    static let prefetchBatches = 2
    /// Claiming threads (each with its own connection). claim_jobs uses SKIP LOCKED, so two
    /// claimers overlap their round trips; only useful when concurrency is at least 2 batches.
    public var claimers: Int
    /// Jobs this worker claims between two VACUUMs of job_queue it runs itself (0, the default:
    /// never; see QueueVacuum.swift). Only roles allowed to VACUUM the table do it.
    public var vacuumAfterClaims: Int
    public var handlers: HandlerTable
    public var breaker: CircuitBreakerPolicy
    /// Environment variables an alert hook may name as its secret (the config file's
    /// `alert_hook_secrets`). A hook naming any other is never resolved: its delivery fails.
    public var alertHookSecrets: Set<String>
    /// Fallback poll when no NOTIFY arrives (and the live-settings refresh period).
    public var pollInterval: TimeInterval
    /// How often rescue_stale_jobs runs from this worker (every worker runs it; it is cheap).
    public var rescueInterval: TimeInterval
    public var host: String
    public var pid: Int
    /// Where the pool reports notable events and job events (with metadata, docs/OBSERVABILITY.md).
    /// The pool never prints: headless `queuetop worker` writes to stderr, the dashboard keeps the
    /// events for its log screen.
    public var logger: Logger
    /// Where the pool records its metrics (docs/OBSERVABILITY.md); nil records nothing.
    public var metrics: WorkerMetrics? = nil

    public init(database: ConnectionConfig, queues: [String]? = nil, concurrency: Int = 10, batchSize: Int = 500, maxUnwrittenResults: Int? = nil, claimers: Int = 1,
                prefetchWait: TimeInterval = 1, vacuumAfterClaims: Int = 0, handlers: HandlerTable = HandlerTable(), breaker: CircuitBreakerPolicy = CircuitBreakerPolicy(),
                alertHookSecrets: Set<String> = [], pollInterval: TimeInterval = 1, rescueInterval: TimeInterval = 10,
                host: String = ProcessInfo.processInfo.hostName,
                pid: Int = Int(ProcessInfo.processInfo.processIdentifier),
                logger: Logger = .discarding) {
        self.database = database
        self.queues = queues.map { $0.isEmpty ? nil : $0 } ?? nil
        self.concurrency = max(1, concurrency)
        self.batchSize = max(1, min(batchSize, 10_000))
        self.maxUnwrittenResults = max(1, maxUnwrittenResults ?? Self.defaultMaxUnwrittenResults(concurrency: self.concurrency, batchSize: self.batchSize))
        self.claimers = max(1, min(claimers, 8))
        self.prefetchWait = max(0, prefetchWait)
        self.vacuumAfterClaims = max(0, vacuumAfterClaims)
        self.handlers = handlers
        self.breaker = breaker
        self.alertHookSecrets = alertHookSecrets
        self.pollInterval = pollInterval
        self.rescueInterval = rescueInterval
        self.host = host
        self.pid = pid
        self.logger = logger
    }
}

/// What the dashboard shows about an embedded pool.
public struct WorkerPoolSnapshot: Sendable, Equatable {
    /// `quiet`: an operator asked it to stop claiming (`queuetop workers quiet`); the jobs it holds
    /// run to the end, and `resume` makes it claim again.
    public enum Phase: String, Sendable { case starting, running, quiet, draining, stopping, stopped }

    public struct QueueState: Sendable, Equatable {
        public var name: String
        public var paused: Bool
        public var breaker: String
        public var held: Int
        public var processed: Int
        public var failed: Int
    }

    public var workerID: String
    public var phase: Phase
    public var concurrency: Int
    /// Jobs claimed and not yet committed (includes finished ones awaiting their batch).
    public var inFlight: Int
    /// Claimed, handler not started yet: the prefetch buffer.
    public var waiting: Int
    public var running: Int
    public var processed: Int
    public var failed: Int
    public var queues: [QueueState]
}
