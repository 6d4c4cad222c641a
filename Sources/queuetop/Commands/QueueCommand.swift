import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop queue list|show|pause|resume|scale|set`: per-queue settings. Changes are audited.
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List queues and change their settings (pause, resume, concurrency, backoff…).",
        subcommands: [List.self, Show.self, Pause.self, Resume.self, Scale.self, SetSettings.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every queue and its settings.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            let queues = try cliErrors { try QueueConfigStore(connection: conn).list() }
            if json { printJSON(queues.map(QueueJSON.init)); return }
            if queues.isEmpty { print("no queues yet (enqueueing a job creates its queue)"); return }
            for q in queues { print(queueLine(q)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One queue: its settings, caps per tenant, expired jobs and top tenants by backlog.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var queue: String
        @Option(name: .long, help: "List at most this many tenants, most pending first (1 to \(QueueTenantStore.maximumTenants)).")
        var tenants = 10
        @Flag(name: .long, help: "Print JSON.") var json = false
        func validate() throws {
            guard (1...QueueTenantStore.maximumTenants).contains(tenants) else {
                throw ValidationError("--tenants must be between 1 and \(QueueTenantStore.maximumTenants), got \(tenants)")
            }
        }
        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            let (config, report, health) = try cliErrors {
                (try QueueConfigStore(connection: conn).get(queue),
                 try QueueTenantStore(connection: conn).report(queue: queue, maxTenants: tenants),
                 try HealthStore(connection: conn).snapshot(types: .queue(queue)).snapshot.queue(named: queue))
            }
            if json { printJSON(QueueShowReport.JSON(config, report, health: health)) }
            else { print(QueueShowReport.text(config, report, health: health)) }
        }
    }

    struct Pause: QueueActionCommand {
        static let configuration = CommandConfiguration(abstract: "Stop claiming jobs of a queue (running jobs finish).")
        @OptionGroup var connection: ConnectionOptions
        @Argument var queue: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        func act(_ store: QueueConfigStore) throws -> QueueConfig { try store.pause(queue) }
    }

    struct Resume: QueueActionCommand {
        static let configuration = CommandConfiguration(abstract: "Claim jobs of a paused queue again.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var queue: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        func act(_ store: QueueConfigStore) throws -> QueueConfig { try store.resume(queue) }
    }

    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set how many jobs of a queue may run at once across all workers.",
            discussion: "N is 1…100000, or 'unlimited'. To stop a queue, pause it.")
        @OptionGroup var connection: ConnectionOptions
        @Argument var queue: String
        @Argument(help: "Concurrency limit, or 'unlimited'.") var limit: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            let value: Int?
            if limit.lowercased() == "unlimited" { value = nil }
            // The range is checked here too: a number past Int32 would otherwise surface as
            // PostgreSQL's "out of range for type integer" instead of a clear message.
            else if let n = Int(limit) {
                guard (1...100_000).contains(n) else {
                    throw CLIError("limit \(limit): must be between 1 and 100000, or 'unlimited'")
                }
                value = n
            }
            else { throw CLIError("limit \(limit): expected a number 1…100000 or 'unlimited'") }
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            printQueue(try cliErrors { try QueueConfigStore(connection: conn).setConcurrency(queue, value) }, json: json)
        }
    }

    struct SetSettings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change settings from a JSON object.",
            discussion: #"Example: queuetop queue set emails '{"max_attempts": 3, "backoff_schedule_s": [300, 900, 1800]}'"#)
        @OptionGroup var connection: ConnectionOptions
        @Argument var queue: String
        @Argument(help: "JSON object of settings.") var settings: String
        @Flag(name: .long, help: "Print JSON.") var json = false
        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            do {
                printQueue(try cliErrors { try QueueConfigStore(connection: conn).update(queue, settings: JSONText(settings)) }, json: json)
            } catch let error as CLIError {
                throw CLIError(Self.namingTheSetting(error.description, in: settings))
            }
        }

        /// PostgreSQL's cast errors quote the bad value but not the setting it came from
        /// (`invalid input syntax for type integer: "lots"`): put the setting's name in front.
        static func namingTheSetting(_ message: String, in settings: String) -> String {
            guard let object = try? JSONSerialization.jsonObject(with: Data(settings.utf8)) as? [String: Any] else { return message }
            let culprits = object.filter { _, value in
                ((value as? String) ?? (value as? NSNumber)?.stringValue).map { message.contains("\"\($0)\"") } ?? false
            }
                .keys.filter { !message.contains($0) }.sorted()
            return culprits.isEmpty ? message : culprits.joined(separator: ", ") + ": " + message
        }
    }
}

func printQueue(_ q: QueueConfig, json: Bool) {
    if json { printJSON(QueueJSON(q)) } else { print(queueLine(q)) }
}

func queueLine(_ q: QueueConfig) -> String {
    let backoff = q.backoffScheduleSeconds.map { "schedule " + $0.map(String.init).joined(separator: ",") + "s" }
        ?? "exp \(q.backoffBaseSeconds)s…\(q.backoffCapSeconds)s"
    return "\(safe: q.name)\t\(q.paused ? "paused" : "active")\tconcurrency \(q.concurrencyLimit.map(String.init) ?? "unlimited")"
        + "\tmax attempts \(q.maxAttempts)\tbackoff \(backoff)\tvisibility \(q.visibilityTimeoutSeconds)s"
        + (q.rateLimitPerSecond.map { "\trate \($0)/s" } ?? "") + "\tkeeps finished jobs \(q.retentionSeconds)s"
        + (q.tenantCaps.isEmpty ? "" : "\ttenant cap " + QueueShowReport.capsWithoutUnit(q.tenantCaps))
}

/// One queue's settings: an element of `queue list --json`, and what every queue action prints
/// with `--json`. The property names are the JSON keys (JSONOutput.swift).
struct QueueJSON: Encodable {
    let name: String
    let paused: Bool
    @OrNull var concurrency_limit: Int?
    let max_attempts: Int
    let backoff_base_s: Int
    let backoff_cap_s: Int
    @OrNull var backoff_schedule_s: [Int]?
    let visibility_timeout_s: Int
    @OrNull var rate_limit_per_s: Double?
    let retention_s: Int
    @OrNull var tenant_concurrency_limit: Int?
    @OrNull var tenant_rate_limit_per_s: Double?

    init(_ q: QueueConfig) {
        name = q.name; paused = q.paused; concurrency_limit = q.concurrencyLimit; max_attempts = q.maxAttempts
        backoff_base_s = q.backoffBaseSeconds; backoff_cap_s = q.backoffCapSeconds
        backoff_schedule_s = q.backoffScheduleSeconds; visibility_timeout_s = q.visibilityTimeoutSeconds
        rate_limit_per_s = q.rateLimitPerSecond; retention_s = q.retentionSeconds
        tenant_concurrency_limit = q.tenantCaps.concurrencyLimit; tenant_rate_limit_per_s = q.tenantCaps.ratePerSecond
    }
}

/// A `queue` subcommand that does one thing to one queue and prints the queue's settings after.
protocol QueueActionCommand: ParsableCommand {
    var connection: ConnectionOptions { get }
    var json: Bool { get }
    func act(_ store: QueueConfigStore) throws -> QueueConfig
}

extension QueueActionCommand {
    func run() throws {
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        printQueue(try cliErrors { try act(QueueConfigStore(connection: conn)) }, json: json)
    }
}
