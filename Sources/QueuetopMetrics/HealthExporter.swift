import CoreMetrics
import Foundation
import Postgres
import Prometheus
import QueueStore
import Synchronization

/// `queuetop exporter`: queue health for Prometheus, one process per database. Each scrape reads
/// `queue_health_snapshot()` once, in a `BEGIN READ ONLY` transaction (a viewer role and a hot
/// standby both work), through a `ManagedConnection` that reconnects after an outage. Scrapes
/// that arrive while a read runs share it. A database that cannot be read is a normal answer
/// with `queuetop_up 0`, never an HTTP error: Prometheus then keeps scraping and alerting works.
public final class HealthExporter: Sendable {
    /// The exporter's own series, kept across scrapes (the health gauges are rebuilt each time).
    private let registry = PrometheusCollectorRegistry()
    private let factory: DescribedMetricsFactory
    private let read: @Sendable () -> Scrape
    private let shared: SharedRead<Scrape>

    struct Scrape: Sendable {
        var health: String?
        var seconds: Double
    }

    /// `statementTimeout`: the most one read may take, so a stuck database answers `up 0` well
    /// inside Prometheus' scrape timeout (10 s by default). `log` hears of each outage once and
    /// of its end once.
    public init(config: ConnectionConfig, statementTimeout: Double = 5, log: @escaping @Sendable (String) -> Void = { _ in }) {
        let factory = DescribedMetricsFactory(registry: registry)
        self.factory = factory
        // Connecting gets the same bound as reading (libpq's connect_timeout is whole seconds,
        // at least 2), unless PGCONNECT_TIMEOUT says otherwise.
        var config = config
        config.connectTimeoutSeconds = max(2, Int(statementTimeout.rounded(.up)))
        let connection = ManagedConnection(config: config, setup: { connection in
            try connection.execute("SELECT set_config('application_name', 'queuetop exporter', false)")
        })
        let failing = ChangeFlag()
        read = {
            let started = ContinuousClock.now
            CoreMetrics.Counter(label: MetricNames.exporterReads.name, factory: factory).increment()
            var health: String?
            do {
                let snapshot = try connection.run { conn in
                    try conn.readOnlyTransaction { tx in
                        try tx.setLocalStatementTimeout(statementTimeout)
                        // No per-type series are exported, so none are read.
                        return try HealthStore(connection: tx).snapshot(types: .none).snapshot
                    }
                }
                health = HealthExposition.render(snapshot)
                if failing.set(false) { log("reading the health snapshot again") }
            } catch {
                if !failing.set(true) {
                    log("cannot read the health snapshot (scrapes answer queuetop_up 0): \(SafeText.oneLine(String(describing: error)))")
                }
            }
            return Scrape(health: health, seconds: (ContinuousClock.now - started) / .seconds(1))
        }
        shared = SharedRead(read)
        _ = CoreMetrics.Counter(label: MetricNames.exporterReads.name, factory: factory)
    }

    /// One scrape's answer: the exporter's own series, then the queues' (none when the read failed).
    public func render() async -> String {
        let scrape = await shared.value()
        CoreMetrics.Gauge(label: MetricNames.up.name, factory: factory).record(scrape.health == nil ? 0 : 1)
        CoreMetrics.Gauge(label: MetricNames.exporterReadDuration.name, factory: factory).record(scrape.seconds)
        return registry.emitToString() + (scrape.health ?? "")
    }

    /// Reads once now, so a wrong address, password or role shows in the log at start rather
    /// than at the first scrape. Not a reason to exit: the database may simply not be up yet.
    public func probe() { _ = read() }
}

/// A flag that says whether it changed; for logging an outage once and its end once.
private final class ChangeFlag: Sendable {
    private let value = Mutex(false)
    /// Sets the flag and returns its previous value.
    func set(_ new: Bool) -> Bool { value.withLock { old in defer { old = new }; return old } }
}
