import CoreMetrics
import Prometheus

/// swift-metrics' factory for a Prometheus registry, as `PrometheusMetricsFactory` is, plus the
/// `# HELP` text and histogram buckets of `MetricNames`. PrometheusMetricsFactory registers every
/// metric with an empty help text, and the registry refuses a second registration of a name
/// with a different help text, so the help has to be given by the factory that creates it.
public struct DescribedMetricsFactory: MetricsFactory, Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Buckets per histogram name; others get `defaultBuckets`.
    let buckets: [String: [Duration]]
    let defaultBuckets: [Duration]

    public init(registry: PrometheusCollectorRegistry, buckets: [String: [Duration]] = [:],
                defaultBuckets: [Duration] = DescribedMetricsFactory.roundTripBuckets) {
        self.registry = registry
        self.buckets = buckets
        self.defaultBuckets = defaultBuckets
    }

    /// Database round trips: 1 ms to 10 s.
    public static let roundTripBuckets: [Duration] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }
    /// Handler runs: 5 ms to 10 min (an HTTP or command handler may take minutes).
    public static let jobBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: MetricNames.help(for: name))
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        // queuetop records no value histograms (durations are Timers): a recorder is a gauge.
        registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: Self.descriptor(label), labels: dimensions,
                                       buckets: buckets[label] ?? defaultBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
