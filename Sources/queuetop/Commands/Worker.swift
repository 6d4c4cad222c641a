import ArgumentParser
import Foundation
import Postgres
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
        discussion: """
            Job types noop and simulate need no config. Other types are bound to handlers (http, command,
            sql) in a JSON config file: --config FILE or $\(WorkerCommand.configVariable); see docs/WORKERS.md.
            SIGTERM, SIGINT and SIGHUP stop claiming, give running jobs --grace seconds, then hand the
            unfinished back to the queue (not counted as an attempt). A second signal skips the grace.
            """)

    static let configVariable = "QUEUETOP_WORKER_CONFIG"

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Queues to work, comma-separated (default: every queue).", valueName: "a,b"))
    var queues: String?

    @Option(name: .long, help: "Handler threads: jobs run at once by this process.")
    var concurrency = 10

    @Option(name: .long, help: "Most jobs per claim and per completion round trip.")
    var batchSize = 100

    @Option(name: .long, help: "Claiming threads, each with its own connection (2 helps a deep backlog when concurrency >= 2 batches).")
    var claimers = 1

    @Option(name: .long, help: ArgumentHelp("Handler config file (JSON).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: "Seconds running jobs get to finish at shutdown before they are released.")
    var grace: Double = 30

    func validate() throws {
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 10000") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 10000") }
        guard (1...8).contains(claimers) else { throw ValidationError("--claimers must be between 1 and 8") }
        guard grace >= 0 else { throw ValidationError("--grace must be 0 or more seconds") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)  // a handler's child closing its stdin early must not kill us
        let database = try connection.config()
        let log = StderrLog()
        let configPath = config ?? ProcessInfo.processInfo.environment[Self.configVariable].flatMap { $0.isEmpty ? nil : $0 }
        let file: WorkerConfigFile
        do {
            file = try configPath.map { try WorkerConfigFile.load(path: $0, database: database) }
                ?? WorkerConfigFile.defaults(database: database)
        } catch let error as WorkerConfigError {
            throw CLIError("bad worker config: \(error.message)")
        }
        for warning in file.warnings { log(.warning, warning) }
        let queueList = queues?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let pool = WorkerPool(configuration: WorkerPoolConfiguration(
            database: database, queues: queueList, concurrency: concurrency, batchSize: batchSize, claimers: claimers,
            handlers: file.handlers, breaker: file.breaker, log: { level, message in log(level, message) }))
        let signals = ShutdownSignals { count in
            if count == 1 {
                Thread { pool.stop(grace: grace) }.start()
            } else {
                log(.warning, "second signal: releasing running jobs now")
                Thread { pool.stop(grace: 0) }.start()
            }
        }
        do {
            try pool.start()
        } catch let error as PostgresError {
            throw CLIError("cannot start the worker: \(error.description)")
        }
        pool.waitUntilStopped()
        withExtendedLifetime(signals) {}
    }
}

/// One line per event on stderr: time, level, message. Lines from many threads never interleave.
final class StderrLog: Sendable {
    private let lock = NSLock()
    func callAsFunction(_ level: WorkerLogLevel, _ message: String) {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current,
                                                formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let line = "\(stamp) \(level.rawValue.uppercased()) \(message)\n"
        lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }
}

/// SIGTERM / SIGINT / SIGHUP delivered through dispatch sources, so the reaction runs on a normal
/// thread and not in signal context. The count lets a second signal cut the grace period short.
final class ShutdownSignals: @unchecked Sendable {  // sources are only touched in init
    private var sources: [any DispatchSourceSignal] = []
    private final class Counter: Sendable { let value = Mutex(0) }

    init(_ handler: @escaping @Sendable (Int) -> Void) {
        // A parent may start us with these blocked (Foundation's Process does); blocked, they
        // would never reach the sources. Done on the main thread before the pool's threads
        // exist, so they all inherit the unblocked mask.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&unblock, sig) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
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
