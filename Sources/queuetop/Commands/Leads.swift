import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop leads move|status|cancel`: seed 003's lead migrations from the command line.
struct LeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leads",
        abstract: "Move the leads of an extraction run to a funnel column in batches; watch or cancel it.",
        subcommands: [LeadsMoveCommand.self, LeadsStatusCommand.self, LeadsCancelCommand.self])
}

/// Parses a UUID argument, or says which option was wrong and where to find good values.
private func parseUUID(_ text: String, _ option: String, listHint: String) throws -> UUID {
    guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
        throw ValidationError("\(option): '\(text)' is not a UUID (like 81bfc716-3b7c-4b2b-bb13-adde77adf59d); \(listHint)")
    }
    return id
}

struct LeadsMoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move",
        abstract: "Queue the move of every lead of a run into a funnel column.",
        discussion: HelpText.reflow("""
            The worker pool (queue 'lead_migrations') runs the batches. --wait runs them from this
            process instead and prints progress; interrupting it stops only the waiting; the
            migration stays queued (stop it with `queuetop leads cancel RUN`).
            Queueing the same run to the same column again returns the active migration.
            It is a bulk change: on a terminal it shows how many leads will move and asks; without
            a terminal (scripts) it refuses unless --yes.
            """))

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("run"), help: ArgumentHelp("Extraction run whose leads move.", valueName: "uuid"))
    var runText: String
    @Option(name: .long, help: ArgumentHelp("Destination funnel.", valueName: "uuid"))
    var funnel: String
    @Option(name: .long, help: ArgumentHelp("Destination column (of that funnel).", valueName: "uuid"))
    var column: String
    @Option(name: .long, help: ArgumentHelp("Leads per batch, 1 to 100000.", valueName: "n"))
    var batchSize: Int = 100
    @Flag(name: .long, help: "Run the batches from this process and print progress until done.")
    var wait = false
    @Flag(name: .long, help: "Print JSON (with --wait: one JSON object per line).")
    var json = false
    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    func run() throws {
        let runID = try parseUUID(runText, "--run", listHint: "list runs with: SELECT id, name FROM extraction_runs")
        let funnelID = try parseUUID(funnel, "--funnel", listHint: "list funnels with: SELECT id, name FROM funnels")
        let columnID = try parseUUID(column, "--column", listHint: "list columns with: SELECT id, name FROM funnel_columns")
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        let store = LeadMigrationStore(connection: conn)
        // Checked before asking: a wrong id or batch size is an error, not a question.
        let preview = try cliErrors { try store.preview(run: runID, funnel: funnelID, column: columnID, batchSize: batchSize) }
        try confirmDestructiveAction(
            "Move \(preview.leads) lead(s) of run \"\(preview.runName)\" to column \"\(preview.columnName)\"?", yes: yes)
        let queued = try cliErrors { try store.queue(run: runID, funnel: funnelID, column: columnID, batchSize: batchSize) }
        if json {
            print(queued.json)
        } else {
            print("\(queued.message) (migration \(queued.operationID), run \"\(queued.runName)\", batches of \(queued.batchSize))"
                  + (queued.alreadyQueued ? " — already queued; not queued again" : ""))
        }
        guard wait else { return }
        fflush(nil)

        var lastPrint = Date.distantPast
        let started = Date()
        let last = try cliErrors {
            try store.runUntilDone(operationID: queued.operationID, batchSize: batchSize) { batch in
                // One line a second at most: a million leads is ten thousand batches.
                if !batch.status.isActive || Date().timeIntervalSince(lastPrint) >= 1 {
                    lastPrint = Date()
                    report(batch, since: started)
                }
                return true
            }
        }
        switch last.status {
        case .completed:
            if !json { print("completed: \(last.done) leads moved") }
        case .cancelled:
            if !json { print("cancelled: \(last.done) of \(last.total) leads were moved and stay moved") }
        case .failed:
            let reason = (try? store.progress(operationID: queued.operationID))??.error ?? "see lead_migration_progress"
            throw CLIError("lead migration \(queued.operationID) failed after moving \(last.done) leads: \(reason)")
        case .pending, .running:
            break
        }
    }

    private func report(_ batch: BulkBatchResult, since start: Date) {
        let seconds = Date().timeIntervalSince(start)
        let rate = seconds > 0 ? Double(batch.done) / seconds : 0
        if json {
            printJSON(BatchJSON(operation_id: batch.operationID, status: batch.status.rawValue, moved: batch.done,
                                remaining: batch.remaining, total: batch.total, leads_per_second: Int(rate.rounded())))
        } else {
            let percent = batch.total == 0 ? 100 : Int(Double(batch.done) * 100 / Double(batch.total))
            print("\(batch.status.rawValue): \(batch.done)/\(batch.total) moved (\(percent)%), \(batch.remaining) remaining, "
                  + "\(Int(rate.rounded())) leads/s")
        }
        fflush(nil)
    }
}

struct LeadsStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show active lead migrations and those finished recently, with progress.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp("Also show migrations that finished in the last N hours.", valueName: "hours"))
    var recent: Double = 24
    @Option(name: .long, help: ArgumentHelp("Show at most N migrations.", valueName: "n"))
    var limit: Int = 50
    @Flag(name: .long, help: "Print JSON: {\"queue\": …, \"migrations\": […]}.")
    var json = false

    func validate() throws {
        guard recent >= 0 && recent <= 24 * 3650 else { throw ValidationError("--recent takes hours between 0 and 87600, got \(recent)") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit takes 1 to 10000, got \(limit)") }
    }

    func run() throws {
        let conn = try connection.connect()
        defer { conn.close() }
        let store = LeadMigrationStore(connection: conn)
        if json {
            print(try cliErrors { try store.statusJSON(recent: recent * 3600, limit: limit) })
            return
        }
        let queue = try cliErrors { try store.queueStatus() }
        let rows = try cliErrors { try store.progress(recent: recent * 3600, limit: limit) }
        print("\(queue.queueName): \(queue.totalMessages) active (\(queue.pending) pending, \(queue.running) running), "
              + "\(queue.leadsRemaining) leads remaining")
        guard !rows.isEmpty else {
            print("no lead migrations in the last \(recent.formatted()) h")
            return
        }
        print(LeadsTable.render(rows))
    }
}

struct LeadsCancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel the active migrations of a run (a batch in flight finishes; moved leads stay moved).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The extraction run.", valueName: "run"))
    var runText: String
    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let runID = try parseUUID(runText, "RUN", listHint: "list migrations with: queuetop leads status")
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        let result = try cliErrors { try LeadMigrationStore(connection: conn).cancel(run: runID) }
        if json {
            print(result.json)
        } else if result.cancelled == 0 {
            print("run \(result.runID.uuidString.lowercased()) (\"\(result.runName)\") has no active lead migration; nothing to cancel")
        } else {
            print("cancelled \(result.cancelled) migration(s) of run \"\(result.runName)\": "
                  + "\(result.leadsMoved) leads moved stay moved, \(result.leadsNotMoved) not moved")
        }
    }
}

/// The text table of `leads status`.
enum LeadsTable {
    static func render(_ rows: [LeadMigration], now: Date = Date()) -> String {
        var lines = [["OP", "RUN", "STATUS", "MOVED/TOTAL", "%", "BATCH", "LAST BATCH", "RATE"]]
        for r in rows {
            let name = r.runName.count > 32 ? String(r.runName.prefix(31)) + "…" : r.runName
            let rate = r.rate(now: now).map { "\(Int($0.rounded()))/s" } ?? "-"
            let last = r.lastBatchAt.map { "\(Int(now.timeIntervalSince($0).rounded()))s ago" } ?? "-"
            lines.append(["\(r.operationID)", name, r.status.rawValue, "\(r.moved)/\(r.total)",
                          "\(Int((r.fraction * 100).rounded(.down)))", "\(r.batchSize)", last, rate])
        }
        var widths = [Int](repeating: 0, count: lines[0].count)
        for line in lines { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return lines.map { line in
            line.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}

extension LeadsMoveCommand {
    /// One line of `leads move --wait --json` per batch; the property names are the JSON keys.
    struct BatchJSON: Encodable {
        let operation_id: Int64
        let status: String
        let moved: Int64
        let remaining: Int64
        let total: Int64
        let leads_per_second: Int
    }
}
