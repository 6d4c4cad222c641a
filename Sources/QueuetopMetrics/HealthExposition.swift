import Prometheus
import QueueStore

/// The queue-health snapshot as Prometheus gauges. A fresh registry per scrape: the values are
/// the database's at that moment, not state kept in this process, so a deleted queue's series
/// disappear with it (the "custom collector" pattern of Prometheus exporters).
enum HealthExposition {
    static func render(_ snapshot: HealthSnapshot) -> String {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ metric: MetricName, _ labels: [(String, String)], _ value: Double) {
            registry.makeGauge(descriptor: DescribedMetricsFactory.descriptor(metric.name), labels: labels).set(to: value)
        }
        for queue in snapshot.queues {
            let q = ("queue", queue.name)
            let counts = queue.counts
            for (status, count) in [("pending", counts.pending), ("processing", counts.processing),
                                    ("completed", counts.completed), ("failed", counts.failed),
                                    ("dead_letter", counts.deadLetter), ("cancelled", counts.cancelled)] {
                gauge(MetricNames.queueJobs, [q, ("status", status)], Double(count))
            }
            gauge(MetricNames.queueOldestPendingAge, [q], Double(queue.oldestPendingSeconds))
            // The last point is the current, unfinished minute; the one before it is complete.
            let minutes = queue.throughputPerMinute
            let lastComplete = minutes.count >= 2 ? minutes[minutes.count - 2] : nil
            gauge(MetricNames.queueCompletedPerMinute, [q], Double(lastComplete?.completed ?? 0))
            gauge(MetricNames.queueFailedPerMinute, [q], Double(lastComplete?.failed ?? 0))
            for (quantile, ms) in [("0.5", queue.latencyMs.p50), ("0.95", queue.latencyMs.p95), ("0.99", queue.latencyMs.p99)] {
                if let ms { gauge(MetricNames.queueProcessingTime, [q, ("quantile", quantile)], ms / 1000) }
            }
            gauge(MetricNames.queuePaused, [q], queue.paused ? 1 : 0)
            for state in MetricNames.breakerStates {
                gauge(MetricNames.queueCircuitBreaker, [q, ("state", state)], queue.circuit == state ? 1 : 0)
            }
        }
        let firing = Dictionary(grouping: snapshot.alerts, by: { [$0.queue ?? "", $0.kind.rawValue] })
        for (key, alerts) in firing.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            gauge(MetricNames.alerts, [("queue", key[0]), ("kind", key[1])], Double(alerts.count))
        }
        let workers = Dictionary(grouping: snapshot.workers, by: \.status)
        for (status, list) in workers.sorted(by: { $0.key < $1.key }) {
            gauge(MetricNames.workers, [("status", status)], Double(list.count))
        }
        return registry.emitToString()
    }

}
