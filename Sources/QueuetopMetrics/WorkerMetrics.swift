import CoreMetrics
import Prometheus

/// What one worker process measures about itself, recorded through swift-metrics into a
/// Prometheus registry of its own (no global `MetricsSystem.bootstrap`: the dashboard's embedded
/// pool and the tests run pools without one). The pool calls the recording methods at a few
/// points (Sources/Workers/PoolMetrics.swift); `render()` is what `GET /metrics` answers.
public final class WorkerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: DescribedMetricsFactory

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
        // Series without labels exist from the first scrape: a reconnect counter that appears
        // only after the first outage would make `increase()` miss that outage.
        _ = CoreMetrics.Counter(label: MetricNames.workerReconnects.name, factory: factory)
        _ = CoreMetrics.Timer(label: MetricNames.workerClaimDuration.name, factory: factory)
        _ = CoreMetrics.Timer(label: MetricNames.workerCompleteDuration.name, factory: factory)
        update(PoolState(concurrency: 0, inFlight: 0, running: 0, unwrittenResults: 0, breakers: [:]))
    }

    public func claimed(_ jobs: [(queue: String, type: String)]) {
        let groups = Dictionary(grouping: jobs, by: { [$0.queue, $0.type] })
        for (key, group) in groups {
            CoreMetrics.Counter(label: MetricNames.workerJobsClaimed.name, dimensions: [("queue", key[0]), ("type", key[1])], factory: factory)
                .increment(by: group.count)
        }
    }

    public func finished(queue: String, type: String, outcome: Outcome, nanoseconds: Int64) {
        let job = [("queue", queue), ("type", type)]
        switch outcome {
        case .completed:
            CoreMetrics.Counter(label: MetricNames.workerJobsCompleted.name, dimensions: job, factory: factory).increment()
        case .retry, .deadLetter:
            let name = outcome == .retry ? "retry" : "dead_letter"
            CoreMetrics.Counter(label: MetricNames.workerJobsFailed.name, dimensions: job + [("outcome", name)], factory: factory).increment()
        }
        CoreMetrics.Timer(label: MetricNames.workerJobDuration.name, dimensions: job, factory: factory)
            .recordNanoseconds(nanoseconds)
    }

    public func claimRoundTrip(nanoseconds: Int64) {
        CoreMetrics.Timer(label: MetricNames.workerClaimDuration.name, factory: factory).recordNanoseconds(nanoseconds)
    }

    public func completeRoundTrip(nanoseconds: Int64) {
        CoreMetrics.Timer(label: MetricNames.workerCompleteDuration.name, factory: factory).recordNanoseconds(nanoseconds)
    }

    public func reconnected() {
        CoreMetrics.Counter(label: MetricNames.workerReconnects.name, factory: factory).increment()
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
