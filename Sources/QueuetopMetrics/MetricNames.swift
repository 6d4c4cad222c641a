/// Every metric queuetop exports: its name, type, labels and help text, in one place, so the
/// names follow one convention (`queuetop_` prefix, `_total` on counters, base units such as
/// `_seconds`) and docs/OBSERVABILITY.md can be checked against them.
public struct MetricName: Sendable, Hashable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public let name: String
    public let kind: Kind
    public let labels: [String]
    public let help: String

    init(_ name: String, _ kind: Kind, labels: [String] = [], _ help: String) {
        self.name = name; self.kind = kind; self.labels = labels; self.help = help
    }
}

public enum MetricNames {
    // MARK: worker (`queuetop worker --metrics-listen`)

    public static let workerJobsClaimed = MetricName(
        "queuetop_worker_jobs_claimed_total", .counter, labels: ["queue", "type"],
        "Jobs this worker claimed.")
    public static let workerJobsCompleted = MetricName(
        "queuetop_worker_jobs_completed_total", .counter, labels: ["queue", "type"],
        "Jobs whose handler completed them on this worker.")
    public static let workerJobsFailed = MetricName(
        "queuetop_worker_jobs_failed_total", .counter, labels: ["queue", "type", "outcome"],
        "Failed attempts on this worker; outcome retry (another attempt follows) or dead_letter (not retryable, or the last attempt).")
    public static let workerJobDuration = MetricName(
        "queuetop_worker_job_duration_seconds", .histogram, labels: ["queue", "type"],
        "Time a handler took to run one job, whatever the outcome.")
    public static let workerClaimDuration = MetricName(
        "queuetop_worker_claim_duration_seconds", .histogram,
        "Round trip of one claim_jobs call, including the ones that found nothing.")
    public static let workerCompleteDuration = MetricName(
        "queuetop_worker_complete_duration_seconds", .histogram,
        "Round trip of one write of finished jobs (complete_jobs and fail_jobs together).")
    public static let workerJobsInFlight = MetricName(
        "queuetop_worker_jobs_in_flight", .gauge,
        "Jobs this worker holds: claimed, running, or finished with the result not yet written.")
    public static let workerJobsRunning = MetricName(
        "queuetop_worker_jobs_running", .gauge,
        "Jobs whose handler is running now.")
    public static let workerConcurrency = MetricName(
        "queuetop_worker_concurrency", .gauge,
        "Handler threads of this worker (--concurrency): the most jobs it runs at once.")
    public static let workerUnwrittenResults = MetricName(
        "queuetop_worker_unwritten_results", .gauge,
        "Finished jobs whose outcome is not yet committed (waiting for the next write, or for the database to come back).")
    public static let workerCircuitBreaker = MetricName(
        "queuetop_worker_circuit_breaker_state", .gauge, labels: ["queue", "state"],
        "This worker's circuit breaker per queue: 1 for the current state (closed, open, half_open), 0 for the others.")
    public static let workerReconnects = MetricName(
        "queuetop_worker_reconnects_total", .counter,
        "Database connections of this worker restored after an outage.")

    // MARK: exporter (`queuetop exporter`)

    public static let up = MetricName(
        "queuetop_up", .gauge,
        "1 when this scrape read the queue-health snapshot, 0 when the database could not be read.")
    public static let exporterReads = MetricName(
        "queuetop_exporter_snapshot_reads_total", .counter,
        "queue_health_snapshot() reads since the exporter started (concurrent scrapes share one read).")
    public static let exporterReadDuration = MetricName(
        "queuetop_exporter_read_duration_seconds", .gauge,
        "How long the last snapshot read took, successful or not.")
    public static let queueJobs = MetricName(
        "queuetop_queue_jobs", .gauge, labels: ["queue", "status"],
        "Jobs per status (pending, processing, completed, failed, dead_letter, cancelled); exact.")
    public static let queueOldestPendingAge = MetricName(
        "queuetop_queue_oldest_pending_age_seconds", .gauge, labels: ["queue"],
        "How long the oldest due pending job has waited; 0 when none waits.")
    public static let queueCompletedPerMinute = MetricName(
        "queuetop_queue_completed_per_minute", .gauge, labels: ["queue"],
        "Jobs completed in the last complete minute.")
    public static let queueFailedPerMinute = MetricName(
        "queuetop_queue_failed_per_minute", .gauge, labels: ["queue"],
        "Failed attempts (retried or not) in the last complete minute.")
    public static let queueProcessingTime = MetricName(
        "queuetop_queue_processing_seconds", .gauge, labels: ["queue", "quantile"],
        "Processing time of the jobs completed in the last hour at quantile 0.5, 0.95, 0.99 (estimates within 4.9 %); absent when none completed.")
    public static let queuePaused = MetricName(
        "queuetop_queue_paused", .gauge, labels: ["queue"],
        "1 when the queue is paused.")
    public static let queueCircuitBreaker = MetricName(
        "queuetop_queue_circuit_breaker_state", .gauge, labels: ["queue", "state"],
        "The queue's stored circuit breaker: 1 for the current state (closed, open, half_open), 0 for the others.")
    public static let alerts = MetricName(
        "queuetop_alerts", .gauge, labels: ["queue", "kind"],
        "Alerts firing now, by queue and kind (queue is empty for worker_silent).")
    public static let workers = MetricName(
        "queuetop_workers", .gauge, labels: ["status"],
        "Workers in the registry by status (running, draining, stopped, lost).")

    public static let all: [MetricName] = [
        workerJobsClaimed, workerJobsCompleted, workerJobsFailed, workerJobDuration, workerClaimDuration,
        workerCompleteDuration, workerJobsInFlight, workerJobsRunning, workerConcurrency, workerUnwrittenResults,
        workerCircuitBreaker, workerReconnects,
        up, exporterReads, exporterReadDuration, queueJobs, queueOldestPendingAge, queueCompletedPerMinute,
        queueFailedPerMinute, queueProcessingTime, queuePaused, queueCircuitBreaker, alerts, workers,
    ]

    /// The help text of a name from `all` ("" for any other).
    public static func help(for name: String) -> String { byName[name]?.help ?? "" }

    private static let byName = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    /// The circuit-breaker states, each exported as its own series (a Prometheus "state set").
    public static let breakerStates = ["closed", "open", "half_open"]
}
