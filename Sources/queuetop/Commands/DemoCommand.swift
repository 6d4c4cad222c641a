import ArgumentParser
import Foundation
import Logging
import Postgres
import Synchronization

/// `queuetop demo seed|produce`: the workload behind `scripts/demo` (seeds 000–004, time scaled
/// down so retries, backoff and dead-lettering happen within seconds).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Seed a demo workload into an empty database and keep jobs arriving (what scripts/demo runs).",
        subcommands: [DemoSeedCommand.self, DemoProduceCommand.self, DemoWorkerConfigCommand.self])
}

/// Prints the demo's worker config (each job type's simulated latency and errors), the text of
/// scripts/lib/demo-workers.json: `queuetop demo worker-config > scripts/lib/demo-workers.json`.
struct DemoWorkerConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker-config",
        abstract: "Print the demo's worker config (scripts/lib/demo-workers.json is this output).")

    func run() throws { print(DemoWorkload.workerConfig, terminator: "") }
}

struct DemoSeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill an empty, migrated database with the demo's queues, 24 h of history, a DLQ and lead migrations.",
        discussion: HelpText.reflow("""
            Queues emails, store_sync (at most 3 at once, dedup per store and period) and campaigns (at most 5,
            retries after 5/15/30 s); 24 h of completions and failures in the health rollups; a few hundred
            dead-lettered jobs over several error types; lead migrations of 992 and 60,000 leads.
            Refuses a database that already holds other queues or runs (changing nothing); a database it
            seeded before is left as it is.
            """))

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        let started = Date()
        switch try cliErrors({ try DemoSeeder(connection: conn).seed() }) {
        case .alreadySeeded:
            print("the demo data is already there; nothing added")
        case let .seeded(history, deadLettered, leads):
            print("seeded in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(history) jobs of history (24 h), "
                  + "\(deadLettered) in the DLQ, \(leads) leads in \(DemoWorkload.leadRuns.count) lead migrations")
        }
    }
}

struct DemoProduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Keep the demo's jobs arriving and its lead migrations moving until stopped.",
        discussion: HelpText.reflow("""
            Emails (~6/s), store-sync waves every 2 s, a campaign run every 8 s, one lead-migration batch
            every 0.5 s and a new run to migrate every minute. Stops on SIGTERM/SIGINT/SIGHUP, after --for
            seconds, or when the process --stop-with names exits (scripts/demo passes its own, so a killed
            demo leaves no producer behind).
            """))

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .customLong("for"), help: ArgumentHelp("Stop after this many seconds (default: run until stopped).", valueName: "s"))
    var seconds: Double?

    @Option(name: .long, help: ArgumentHelp("Stop when the process with this id exits.", valueName: "pid"))
    var stopWith: Int32?

    func validate() throws {
        if let seconds, !(seconds > 0 && seconds.isFinite) { throw ValidationError("--for must be a positive number of seconds") }
        if let stopWith, !(stopWith > 1 && Self.isAlive(stopWith)) {
            throw ValidationError("--stop-with \(stopWith): no such process (give the id of a running process other than init)")
        }
    }

    /// kill(pid, 0) checks existence without sending anything; EPERM still means it exists.
    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    func run() throws {
        let config = try connection.writeConfig()
        try connection.refuseStandby()
        let stop = Mutex(false)
        let signals = ShutdownSignals { _ in stop.withLock { $0 = true } }
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        let log = logging.logger("queuetop.demo", to: .standardError)
        let producer = DemoProducer(config: config) { log.warning("\($0)") }
        producer.run(shouldStop: {
            stop.withLock { $0 } || stopWith.map { !Self.isAlive($0) } == true || deadline.map { Date() >= $0 } == true
        })
        withExtendedLifetime(signals) {}
    }
}
