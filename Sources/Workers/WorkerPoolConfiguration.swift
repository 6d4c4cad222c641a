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
    /// Most jobs per claim_jobs round trip, and the most claimed ahead of the free handler slots
    /// (the prefetch buffer). 500 by default: a claim of 500 commits a fifth as often per job as
    /// one of 100 (docs/BENCHMARKS-defaults.md). Jobs claimed and not started never ran, so the
    /// batch does not widen what a crash can run twice; `maxUnwrittenResults` does.
    public var batchSize: Int
    /// Handled jobs whose results are not committed yet, at most: with `concurrency`, the most a
    /// crash can run twice (`atLeastOnceWindow`). A handler does not start while running +
    /// unwritten would pass that window, and the pool stops claiming while this many results wait.
    /// Twice a write's worth, so one write can be in flight while the next results pile up: with
    /// only one, claiming and completing took turns and a drain lost ~25 % (docs/BENCHMARKS.md
    /// NOTES). It was 2 × max(batch, concurrency); the batch now counts only up to 100, so a
    /// larger claim batch (500 by default) does not widen the window, and a smaller one keeps
    /// the narrower window it had.
    public var maxUnwrittenResults: Int
    /// Running plus handled-but-unwritten jobs, at most: what a kill -9 can run twice.
    public var atLeastOnceWindow: Int { concurrency + maxUnwrittenResults }
    /// The default `maxUnwrittenResults`: 2 × max(min(batch, 100), concurrency), 200 at the
    /// defaults (10, 500), never more than the 2 × max(batch, concurrency) it was.
    public static func defaultMaxUnwrittenResults(concurrency: Int, batchSize: Int) -> Int {
        2 * max(min(batchSize, 100), concurrency)
    }
    /// The longest a claimed job may wait for a handler slot before it is released back to
    /// pending (seconds; 0: claim only free slots, no prefetch buffer). Jobs that finish fast are
    /// claimed a batch at a time, up to `batchSize` beyond the free slots (Prefetch.swift).
    public var prefetchWait: TimeInterval
    var prefetch: PrefetchPolicy { PrefetchPolicy(maxWait: prefetchWait, limit: batchSize) }
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
