import ArgumentParser
import Foundation
import Logging
import Postgres
import QueuetopMetrics
#if canImport(Glibc)
import Glibc
#endif

/// `queuetop exporter --listen ADDR:PORT`: queue health for Prometheus, one process per database.
struct ExporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exporter",
        abstract: "Serve queue health (counts, ages, throughput, percentiles, alerts) as Prometheus metrics.",
        discussion: HelpText.reflow("""
            Run one per database. Each scrape of http://ADDR:PORT/metrics reads queue_health_snapshot() \
            once, read-only: the queuetop_viewer role and a hot standby are enough. Scrapes that arrive \
            together share one read. While the database cannot be read, scrapes answer queuetop_up 0. \
            Every metric is described in docs/OBSERVABILITY.md. SIGTERM, SIGINT and SIGHUP stop it.
            """))

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .long, help: ArgumentHelp("Address to serve /metrics on (port 0 picks a free one, logged at start).",
                                            valueName: "addr:port"))
    var listen: String

    @Option(name: .long, help: "Seconds one snapshot read may take before the scrape answers queuetop_up 0.")
    var readTimeout: Double = 5

    func validate() throws {
        _ = try MetricsListenOption.parse(listen, option: "--listen")
        guard readTimeout > 0 && readTimeout <= 600 else { throw ValidationError("--read-timeout must be between 0 and 600 seconds") }
    }

    func run() throws {
        let database = try connection.readConfig()
        let log = logging.logger("queuetop.exporter", to: .standardError)
        let exporter = HealthExporter(config: database, statementTimeout: readTimeout) { log.warning("\($0)") }
        let stopped = DispatchSemaphore(value: 0)
        let signals = ShutdownSignals { _ in stopped.signal() }
        let endpoint = try MetricsListenOption.serve(listen, option: "--listen", log: log) { await exporter.render() }
        log.info("exporting the health of \(database.endpoint)")
        exporter.probe()
        stopped.wait()
        endpoint.stop()
        withExtendedLifetime(signals) {}
    }
}
