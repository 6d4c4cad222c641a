import CoreMetrics
import Prometheus
import Synchronization

/// What one worker process measures about itself, recorded through swift-metrics into a
/// Prometheus registry of its own (no global `MetricsSystem.bootstrap`: the dashboard's embedded
/// pool and the tests run pools without one). The pool calls the recording methods at a few
/// points (Sources/Workers/PoolMetrics.swift); `render()` is what `GET /metrics` answers.
public final class WorkerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: DescribedMetricsFactory
    // Series without labels exist from the first scrape: a reconnect counter that appeared only
    // after the first outage would make `increase()` miss that outage.
    private let claimDuration, completeDuration: CoreMetrics.Timer
    private let reconnects: CoreMetrics.Counter

    public enum Outcome: Sendable {
        case completed
        /// Failed; another attempt follows.
        case retry
        /// Failed for good: not retryable, or the last attempt.
        case deadLetter
    }

    /// The pool's state at the moment of a scrape.
    public struct PoolState: Sendable {
        public var concurrency: Int
        public var inFlight: Int
        public var running: Int
        public var unwrittenResults: Int
        /// queue -> breaker state name (`closed`, `open`, `half_open`).
        public var breakers: [String: String]

        public init(concurrency: Int, inFlight: Int, running: Int, unwrittenResults: Int, breakers: [String: String]) {
            self.concurrency = concurrency; self.inFlight = inFlight; self.running = running
            self.unwrittenResults = unwrittenResults; self.breakers = breakers
        }
    }

    public init() {
        factory = DescribedMetricsFactory(registry: registry,
                                          buckets: [MetricNames.workerJobDuration.name: DescribedMetricsFactory.jobBuckets])
        claimDuration = CoreMetrics.Timer(label: MetricNames.workerClaimDuration.name, factory: factory)
        completeDuration = CoreMetrics.Timer(label: MetricNames.workerCompleteDuration.name, factory: factory)
        reconnects = CoreMetrics.Counter(label: MetricNames.workerReconnects.name, factory: factory)
        update(PoolState(concurrency: 0, inFlight: 0, running: 0, unwrittenResults: 0, breakers: [:]))
    }

    /// The series of one (queue, job type), made together the first time it is seen: one lock and
    /// one lookup per job instead of a registry lookup per series, and a failure counter at 0
    /// from the start, so `rate()` and `increase()` see its first failure.
    private struct JobSeries: Sendable {
        let claimed, completed, retried, deadLettered: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    private struct JobKey: Hashable, Sendable { let queue: String, type: String }

    private let series = Mutex<[JobKey: JobSeries]>([:])

    private func series(queue: String, type: String) -> JobSeries {
        let key = JobKey(queue: queue, type: type)
        return series.withLock { all in
            if let found = all[key] { return found }
            let job = [("queue", queue), ("type", type)]
            func failed(_ outcome: String) -> CoreMetrics.Counter {
                CoreMetrics.Counter(label: MetricNames.workerJobsFailed.name, dimensions: job + [("outcome", outcome)], factory: factory)
            }
            let made = JobSeries(
                claimed: CoreMetrics.Counter(label: MetricNames.workerJobsClaimed.name, dimensions: job, factory: factory),
                completed: CoreMetrics.Counter(label: MetricNames.workerJobsCompleted.name, dimensions: job, factory: factory),
                retried: failed("retry"), deadLettered: failed("dead_letter"),
                duration: CoreMetrics.Timer(label: MetricNames.workerJobDuration.name, dimensions: job, factory: factory))
            all[key] = made
            return made
        }
    }

    public func claimed(_ jobs: [(queue: String, type: String)]) {
        for (key, group) in Dictionary(grouping: jobs, by: { JobKey(queue: $0.queue, type: $0.type) }) {
            series(queue: key.queue, type: key.type).claimed.increment(by: group.count)
        }
    }

    public func finished(queue: String, type: String, outcome: Outcome, nanoseconds: Int64) {
        let job = series(queue: queue, type: type)
        switch outcome {
        case .completed: job.completed.increment()
        case .retry: job.retried.increment()
        case .deadLetter: job.deadLettered.increment()
        }
        job.duration.recordNanoseconds(nanoseconds)
    }

    public func claimRoundTrip(nanoseconds: Int64) {
        claimDuration.recordNanoseconds(nanoseconds)
    }

    public func completeRoundTrip(nanoseconds: Int64) {
        completeDuration.recordNanoseconds(nanoseconds)
    }

    public func reconnected() {
        reconnects.increment()
    }

    /// Sets the gauges that describe the pool now (called just before each render).
    public func update(_ state: PoolState) {
        CoreMetrics.Gauge(label: MetricNames.workerConcurrency.name, factory: factory).record(state.concurrency)
        CoreMetrics.Gauge(label: MetricNames.workerJobsInFlight.name, factory: factory).record(state.inFlight)
        CoreMetrics.Gauge(label: MetricNames.workerJobsRunning.name, factory: factory).record(state.running)
        CoreMetrics.Gauge(label: MetricNames.workerUnwrittenResults.name, factory: factory).record(state.unwrittenResults)
        for (queue, current) in state.breakers {
            for name in MetricNames.breakerStates {
                CoreMetrics.Gauge(label: MetricNames.workerCircuitBreaker.name, dimensions: [("queue", queue), ("state", name)], factory: factory)
                    .record(name == current ? 1 : 0)
            }
        }
    }

    /// The registry in the Prometheus text format.
    public func render() -> String { registry.emitToString() }
}
