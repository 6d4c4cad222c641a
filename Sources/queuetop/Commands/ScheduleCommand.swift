import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop schedule list|add|enable|disable|run|delete`: recurring jobs from cron expressions
/// (UTC). Worker processes tick them; changes and run-now are audited.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Recurring jobs: cron expressions (UTC, optional seconds field) that enqueue a job.",
        discussion: HelpText.reflow("""
            Running `queuetop worker` processes enqueue due schedules, exactly once per tick however
            many run; ticks missed while no worker ran are coalesced into one run.
            """),
        subcommands: [List.self, Add.self, Enable.self, Disable.self, Run.self, Delete.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every schedule: next run, last run, last outcome.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            let schedules = try cliErrors { try ScheduleStore(connection: conn).list() }
            if json { printJSON(schedules.map(ScheduleJSON.init)); return }
            if schedules.isEmpty { print("no schedules (add one with `queuetop schedule add NAME CRON QUEUE TYPE`)"); return }
            for s in schedules { print(scheduleLine(s)) }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a schedule.",
            discussion: HelpText.reflow("""
                CRON has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first,
                or a macro (@hourly, @daily, …). Examples:
                  queuetop schedule add fetch-emails '*/5 * * * *' emails fetch_emails
                  queuetop schedule add sync '*/10 * * * * *' sync sync_store \\
                    --payload '{"full":false}'
                """))
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Unique name (letters, digits, . _ : -).") var name: String
        @Argument(help: "Cron expression, quoted.") var cron: String
        @Argument(help: "Queue to enqueue into.") var queue: String
        @Argument(help: "Job type.") var type: String
        @Option(name: .long, help: "Job payload (JSON).") var payload = "{}"
        @Option(name: .long, parsing: .unconditional, help: "Job priority (negative runs later).") var priority = 0
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            // Parse before connecting: a bad expression needs no database to be refused.
            _ = try cliErrors { try CronExpression(cron) }
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let schedule = try cliErrors {
                try ScheduleStore(connection: conn).add(NewSchedule(name: name, cron: cron, queue: queue, jobType: type,
                                                                    payload: JSONText(payload), priority: priority))
            }
            printSchedule(schedule, json: json)
        }
    }

    struct Enable: ScheduleToggleCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a schedule; it next fires at its next tick from now.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        var enable: Bool { true }
    }

    struct Disable: ScheduleToggleCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a schedule (jobs already enqueued are left alone).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        var enable: Bool { false }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueue a schedule's job once, now (enabled or not).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let id = try cliErrors { try ScheduleStore(connection: conn).runNow(name) }
            if json { printJSON(RunJSON(schedule: name, job_id: id.uuidString.lowercased())) }
            else { print("enqueued job \(id.uuidString.lowercased()) for schedule \(safe: name)") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a schedule (jobs already enqueued are left alone).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var name: String
        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            try cliErrors { try ScheduleStore(connection: conn).delete(name) }
            print("deleted schedule \(safe: name)")
        }
    }
}

/// `schedule enable` and `schedule disable`: one audited change, then the schedule as it is now.
protocol ScheduleToggleCommand: ParsableCommand {
    var connection: ConnectionOptions { get }
    var name: String { get }
    var json: Bool { get }
    var enable: Bool { get }
}

extension ScheduleToggleCommand {
    func run() throws {
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        printSchedule(try cliErrors { try ScheduleStore(connection: conn).setEnabled(name, enable) }, json: json)
    }
}

private func printSchedule(_ s: Schedule, json: Bool) {
    if json { printJSON(ScheduleJSON(s)) } else { print(scheduleLine(s)) }
}

private func scheduleLine(_ s: Schedule) -> String {
    "\(safe: s.name)\t\(s.enabled ? "enabled" : "disabled")\t\(safe: s.cron)\t\(safe: s.queue)/\(safe: s.jobType)"
        + "\tnext \(s.enabled ? isoTime(s.nextRunAt) : "-")\tlast \(s.lastRunAt.map(isoTime) ?? "never")"
        + (s.lastOutcome.map { "\t\(safe: $0)" } ?? "")
}

/// One schedule: an element of `schedule list --json`, and what add, show, enable and disable
/// print. The payload is the stored jsonb itself. The property names are the JSON keys.
private struct ScheduleJSON: Encodable {
    let name: String
    let cron: String
    let queue: String
    let job_type: String
    let payload: EmbeddedJSON
    let priority: Int
    let enabled: Bool
    let next_run_at: String
    @OrNull var last_run_at: String?
    @OrNull var last_job_id: String?
    @OrNull var last_outcome: String?
    let missed_ticks: Int64

    init(_ s: Schedule) {
        name = s.name; cron = s.cron; queue = s.queue; job_type = s.jobType; payload = EmbeddedJSON(s.payload.raw)
        priority = s.priority; enabled = s.enabled; next_run_at = isoTime(s.nextRunAt); last_run_at = s.lastRunAt.map(isoTime)
        last_job_id = s.lastJobID.map { $0.uuidString.lowercased() }; last_outcome = s.lastOutcome; missed_ticks = s.missedTicks
    }
}

/// `schedule run --json`.
private struct RunJSON: Encodable {
    let schedule: String
    let job_id: String
}
