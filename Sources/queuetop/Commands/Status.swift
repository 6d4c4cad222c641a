import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop status [--json] [--watch N]`: the queue-health snapshot, one round trip per print.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print queue health: one line per queue, the top error types, then alerts.",
        discussion: """
            --json prints the snapshot exactly as queue_health_snapshot() returns it (the stable \
            shape in docs/HEALTH.md); with --watch it prints one JSON document per line. \
            p50/p95/p99 are histogram estimates within 4.9 % of the exact percentile; counts, \
            throughput, avg and max are exact.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the snapshot as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Reprint every N seconds until interrupted.", valueName: "N"))
    var watch: Double?

    func validate() throws {
        if let watch, !(watch >= 0.2 && watch <= 86400) {
            throw ValidationError("--watch takes a number of seconds between 0.2 and 86400, got \(watch)")
        }
    }

    func run() throws {
        guard let interval = watch else {
            let conn = try connection.connect()
            defer { conn.close() }
            print(try render(HealthStore(connection: conn)))
            if !json, let line = notificationLine(conn) { print(line) }
            return
        }
        // A watch runs until stopped: a parent that started us with these blocked (Foundation's
        // Process does) must still be able to stop it with SIGTERM or SIGINT.
        unblockSignals([SIGTERM, SIGINT])
        let clear = !json && isatty(STDOUT_FILENO) == 1
        var conn: Connection?
        var backoff = Backoff(initial: interval, maximum: max(interval, 30))
        while true {
            var wait = interval
            do {
                if conn == nil || conn?.isConnected == false { conn = try connection.connect() }
                let text = try render(HealthStore(connection: conn!))
                // Our own screen clear: the only escape sequence the CLI sends on purpose.
                if clear { Swift.print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(text)
                backoff.reset()
            } catch {
                // Keep watching through a restart, a dropped or a frozen link (no answer within
                // the liveness bound: docs/RELIABILITY.md, "Liveness"); say so instead of exiting.
                let linkDown = conn.map { !$0.isConnected } ?? true
                conn?.close()
                conn = nil
                wait = backoff.next()
                let line = "queuetop: \(linkDown ? "disconnected: " : "")\(error) (retrying in \(String(format: "%.1f", wait)) s)"
                if json { printError(SafeText.oneLine(line)) } else { print(SafeText.oneLine(line)) }
            }
            fflush(nil)  // all streams: Swift 6 rejects the global `stdout`
            Thread.sleep(forTimeInterval: wait)
        }
    }

    /// Whether LISTEN works on this connection (`Connection.notificationsDelivered`, at most
    /// 2 s and only that long when it does not): behind a transaction pooler workers and the
    /// dashboard fall back to polling, and status says so. Text output only; --json keeps the
    /// snapshot's shape.
    private func notificationLine(_ conn: Connection) -> String? {
        guard let delivered = try? conn.notificationsDelivered(timeout: 2), !delivered else { return nil }
        return "note: " + Connection.notificationsLostMessage
    }

    private func render(_ store: HealthStore) throws -> String {
        do {
            if json { return try store.snapshotJSON() }
            return StatusReport.text(try store.snapshot().snapshot)
        } catch let error as QueueStoreError {
            throw CLIError(error.description)
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }
}
