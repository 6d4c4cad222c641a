import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop status [--json] [--watch N]`: the queue-health snapshot, one round trip per print.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print queue health: one line per queue, the top error types, then alerts.",
        discussion: HelpText.reflow("""
            --json prints the snapshot exactly as queue_health_snapshot() returns it (the stable \
            shape in docs/HEALTH.md); with --watch it prints one JSON document per line. \
            p50/p95/p99 are histogram estimates within 4.9 % of the exact percentile; counts, \
            throughput, avg and max are exact. On a hot standby the text says "standby" and how far \
            replay is behind, its time is that of the last replayed transaction, and the JSON \
            carries "standby": true and a "replay" object (docs/RELIABILITY.md, Standbys).
            """))

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the snapshot as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Reprint every N seconds until interrupted.", valueName: "N"))
    var watch: Double?

    @Flag(name: .customLong("all-contexts"), help: "Every database of the contexts file at once, added up (docs/SCALING.md).")
    var allContexts = false

    func validate() throws {
        if let watch, !(watch >= 0.2 && watch <= 86400) {
            throw ValidationError("--watch takes a number of seconds between 0.2 and 86400, got \(watch)")
        }
        if allContexts, connection.context != nil || connection.db != nil {
            throw ValidationError("--all-contexts reads every context of the file: leave out --context and --db")
        }
    }

    func run() throws {
        if allContexts { return try runAllContexts() }
        guard let interval = watch else {
            let conn = try connection.connect()
            defer { conn.close() }
            var listen: ListenCheck?
            print(try render(conn, listen: &listen))
            return
        }
        let clear = !json && isatty(STDOUT_FILENO) == 1
        var conn: Connection?
        var listen: ListenCheck?
        var backoff = Backoff(initial: interval, maximum: max(interval, 30))
        while true {
            var wait = interval
            do {
                if conn == nil || conn?.isConnected == false {
                    conn = try connection.connect()
                    listen = nil  // a new link, maybe through another pooler: check it again
                }
                let text = try render(conn!, listen: &listen)
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

    /// `--all-contexts`: every context read at the same time; with --watch, again every N seconds.
    /// A context that is down is named as such on each print; the command keeps going.
    private func runAllContexts() throws {
        let file = try connection.contextsFile()
        let clear = !json && isatty(STDOUT_FILENO) == 1 && watch != nil
        while true {
            let readings = StatusAllContexts.read(file, options: connection, wholeSnapshots: json)
            if clear { Swift.print("\u{1B}[H\u{1B}[2J", terminator: "") }
            if json { printJSON(StatusAllContexts.json(readings)) } else { print(StatusAllContexts.text(readings, file: file)) }
            guard let watch else { return }
            fflush(nil)
            Thread.sleep(forTimeInterval: watch)
        }
    }

    /// Whether LISTEN works on this link, checked once per connection
    /// (`Connection.notificationsDelivered`: a few milliseconds when it does, 2 s when it does
    /// not). Behind a transaction pooler workers and the dashboard fall back to polling, and
    /// status says so: a note line in text, `"notifications_delivered": false` in JSON. A
    /// standby is not asked (it polls by design and its line says "standby"): null there.
    struct ListenCheck { let delivered: Bool? }

    private func listenCheck(_ conn: Connection, standby: StandbyStatus?) -> ListenCheck {
        guard standby == nil else { return ListenCheck(delivered: nil) }
        return ListenCheck(delivered: try? conn.notificationsDelivered(timeout: 2))
    }

    /// One print: the snapshot, whether the server is a standby (two round trips), and whether
    /// LISTEN works on this link.
    private func render(_ conn: Connection, listen: inout ListenCheck?) throws -> String {
        do {
            // The snapshot in the shape asked for, then the two facts every print carries.
            let format: (StandbyStatus?, Bool?) -> String
            if json {
                let snapshot = try HealthStore(connection: conn).snapshotJSON()
                format = { StatusReport.json(snapshot, standby: $0, notificationsDelivered: $1) }
            } else {
                // The text shows no per-type figures, so it reads none.
                let snapshot = try HealthStore(connection: conn).snapshot(types: .none).snapshot
                format = { standby, delivered in
                    let text = StatusReport.text(snapshot, standby: standby)
                    return delivered == false ? text + "\nnote: " + Connection.notificationsLostMessage : text
                }
            }
            let standby = try ServerRoleStore(connection: conn).standby()
            let check = listen ?? listenCheck(conn, standby: standby)
            listen = check
            return format(standby, check.delivered)
        } catch let error as QueueStoreError {
            throw CLIError(error.description)
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }
}
