import ArgumentParser
import Foundation
import Logging
import Postgres
import QueuetopMetrics
import Synchronization
import Workers
#if canImport(Glibc)
import Glibc
#endif

/// `queuetop worker`: the headless worker pool. One log line per notable event on stderr.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the worker pool headless: claim jobs, run their handlers, commit the outcomes.",
        discussion: HelpText.reflow("""
            Job types noop and simulate need no config. Other types are bound to handlers (http, command,
            sql) in a JSON config file: --config FILE or $\(WorkerPoolOptions.configVariable); see docs/WORKERS.md.
            SIGTERM, SIGINT and SIGHUP stop claiming, give running jobs --grace seconds, then hand the
            unfinished back to the queue (not counted as an attempt). A second signal skips the grace.
            """))

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var pool: WorkerPoolOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://ADDR:PORT/metrics (off by default; port 0 picks a free one, logged at start).",
        valueName: "addr:port"))
    var metricsListen: String?

    func validate() throws {
        if let metricsListen { _ = try MetricsListenOption.parse(metricsListen, option: "--metrics-listen") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)  // a handler's child closing its stdin early must not kill us
        let database = try connection.writeConfig()
        let log = logging.logger("queuetop.worker", to: .standardError)
        Notices.setHandler { notice in log.warning("server \(notice)") }
        let metrics = metricsListen == nil ? nil : WorkerMetrics()
        // The handler config is checked first (no connection needed), then the server: a pool
        // on a standby would fail every claim, so say where the primary is instead.
        let pool = try self.pool.makePool(database: database, logger: log, metrics: metrics)
        try connection.refuseStandby()
        // Listening first: a port already taken fails the start before the worker registers.
        let endpoint = try metricsListen.map { listen in
            try MetricsListenOption.serve(listen, option: "--metrics-listen", log: log) {
                pool.publishMetrics()
                return metrics!.render()
            }
        }
        let grace = self.pool.grace
        let signals = ShutdownSignals { count in
            if count == 1 {
                Thread { pool.stop(grace: grace) }.start()
            } else {
                log.warning("second signal: releasing running jobs now")
                Thread { pool.stop(grace: 0) }.start()
            }
        }
        do {
            try pool.start()
        } catch let error as PostgresError {
            throw CLIError("cannot start the worker: \(error.description)")
        }
        pool.waitUntilStopped()
        endpoint?.stop()
        withExtendedLifetime(signals) {}
    }
}

/// SIGTERM / SIGINT / SIGHUP delivered through dispatch sources, so the reaction runs on a normal
/// thread and not in signal context. The count lets a second signal cut the grace period short.
final class ShutdownSignals: @unchecked Sendable {  // sources are only touched in init
    private var sources: [any DispatchSourceSignal] = []
    private final class Counter: Sendable { let value = Mutex(0) }

    init(_ handler: @escaping @Sendable (Int) -> Void) {
        unblockSignals([SIGTERM, SIGINT, SIGHUP])
        let count = Counter()
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)  // the dispatch source sees it; the default action (exit) must not run
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let n = count.value.withLock { $0 += 1; return $0 }
                handler(n)
            }
            source.resume()
            sources.append(source)
        }
    }
}
