import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop dlq list|groups|requeue|delete`: dead-letter triage from the shell.
struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, requeue and delete dead-letter jobs.",
        subcommands: [List.self, Groups.self, Requeue.self, Delete.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead-letter jobs, newest failure first.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long) var queue: String?
        @Option(name: .customLong("error-type")) var errorType: String?
        @Option(name: .long, help: "At most this many jobs, 1 to 10000.") var limit = 100
        @Flag(name: .long, help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000, got \(limit)") }
        }

        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            try requireKnownQueue(queue, conn)
            let jobs = try cliErrors { try DLQStore(connection: conn).list(DLQFilter(queue: queue, errorType: errorType), limit: limit) }
            if json {
                printJSON(jobs.map(JobJSON.init))
                return
            }
            if jobs.isEmpty { print("the DLQ is empty\(queue.map { " for queue \(safe: $0)" } ?? "")"); return }
            for j in jobs {
                print("\(j.id.uuidString.lowercased())  \(safe: j.queue)  \(safe: j.errorType ?? "-")  attempts \(j.attemptCount)/\(j.maxAttempts)  \(j.lastErrorAt.map(isoTime) ?? "-")  \(safe: (j.errorMessage ?? "").prefix(80))")
            }
        }
    }

    struct Groups: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead-letter jobs grouped by queue and error type.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long) var queue: String?
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            try requireKnownQueue(queue, conn)
            let groups = try cliErrors { try DLQStore(connection: conn).groups(queue: queue) }
            if json {
                printJSON(groups.map(GroupJSON.init))
                return
            }
            if groups.isEmpty { print("the DLQ is empty"); return }
            for g in groups {
                print("\(g.count)\t\(safe: g.queue)\t\(safe: g.errorType ?? "-")\tlast \(g.lastErrorAt.map(isoTime) ?? "-")\t\(safe: (g.sampleMessage ?? "").prefix(60))")
            }
        }
    }

    /// What a requeue or delete targets: explicit ids, or a filter (--error-type / --all, --queue).
    struct Target: ParsableArguments {
        @Argument(help: "Job ids.") var ids: [String] = []
        @Option(name: .customLong("error-type"), help: "Every dead-letter job with this error type.") var errorType: String?
        @Flag(name: .long, help: "Every dead-letter job (of --queue, if given).") var all = false
        @Option(name: .long) var queue: String?
        @Option(name: .customLong("batch-size"), help: "Jobs per transaction for bulk actions.") var batchSize = 1000
        @Flag(name: .long, help: "Do not ask for confirmation.") var yes = false

        func validate() throws {
            let modes = [!ids.isEmpty, errorType != nil, all].filter { $0 }.count
            guard modes == 1 else { throw ValidationError("give job ids, or --error-type T, or --all (exactly one)") }
            // Checked here, not only by the SQL: an empty DLQ would otherwise hide a bad value.
            guard (1...100_000).contains(batchSize) else {
                throw ValidationError("--batch-size must be between 1 and 100000, got \(batchSize)")
            }
        }

        func uuids() throws -> [UUID] {
            try ids.map { text in
                guard let id = UUID(uuidString: text) else { throw CLIError("\(text) is not a job id (expected a UUID)") }
                return id
            }
        }

        var filter: DLQFilter { DLQFilter(queue: queue, errorType: errorType) }
        var describe: String {
            [queue.map { "queue \($0)" }, errorType.map { "error type \($0)" }].compactMap { $0 }.joined(separator: ", ")
        }
    }

    struct Requeue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Requeue dead-letter jobs: ids, all of an error type, or all.",
            discussion: "Bulk requeues count the jobs first, ask, then requeue exactly those (failures that arrive meanwhile stay).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target
        @Flag(name: .customLong("reset-attempts"), help: "Give the jobs their full number of attempts again.") var resetAttempts = false
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let dlq = DLQStore(connection: conn)
            if !target.ids.isEmpty {
                let ids = try target.uuids()
                let n: Int = try cliErrors {
                    if ids.count == 1 { try dlq.requeue(id: ids[0], resetAttempts: resetAttempts); return 1 }
                    return try dlq.requeue(ids: ids, resetAttempts: resetAttempts)
                }
                report(n, of: ids.count)
                return
            }
            try requireKnownQueue(target.queue, conn)
            let asOf = try cliErrors { try dlq.now() }
            let preview = try cliErrors { try dlq.count(target.filter, asOf: asOf) }
            if preview == 0 { report(0, of: 0); return }
            try confirmDestructiveAction("Requeue \(preview) dead-letter job(s)\(target.describe.isEmpty ? "" : " (\(target.describe))")\(connection.context.map { " on context \($0)" } ?? "")?", yes: target.yes)
            let result = try cliErrors {
                try dlq.requeueAll(target.filter, resetAttempts: resetAttempts, asOf: asOf, batchSize: target.batchSize)
            }
            report(result.affected, of: preview)
        }

        func report(_ n: Int, of total: Int) {
            if json { printJSON(RequeuedJSON(requeued: n, requested: total)) }
            else if n == total { print("requeued \(n) job(s)") }
            else { print("requeued \(n) of \(total) job(s); the others are no longer in the DLQ or their dedup key is active") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead-letter jobs for good: ids, all of an error type, or all.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Target
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let dlq = DLQStore(connection: conn)
            let n: Int, total: Int
            if !target.ids.isEmpty {
                let ids = try target.uuids()
                // A job that is not dead is not deleted: say which, and act (and audit) only when
                // some are (delete_dlq_jobs also writes no audit row for none).
                let skipped = try cliErrors { try dlq.notDead(ids: ids) }
                let reasons = skipped.map { s in
                    "job \(s.id.uuidString.lowercased()) " + (s.status.map { "is \($0), not dead_letter" } ?? "does not exist")
                }
                let dead = ids.filter { id in !skipped.contains { $0.id == id } }
                guard !dead.isEmpty else {
                    throw CLIError(reasons.joined(separator: "; ") + "; only dead-letter jobs can be deleted, nothing was deleted")
                }
                for reason in reasons { printError("queuetop: \(reason); not deleted") }
                try confirmDestructiveAction("Delete \(dead.count) dead-letter job(s)\(connection.context.map { " on context \($0)" } ?? "")?", yes: target.yes)
                n = try cliErrors { try dlq.delete(ids: dead) }
                total = ids.count
            } else {
                try requireKnownQueue(target.queue, conn)
                let asOf = try cliErrors { try dlq.now() }
                total = try cliErrors { try dlq.count(target.filter, asOf: asOf) }
                if total > 0 {
                    try confirmDestructiveAction("Delete \(total) dead-letter job(s)\(target.describe.isEmpty ? "" : " (\(target.describe))")\(connection.context.map { " on context \($0)" } ?? "") for good?", yes: target.yes)
                }
                n = total == 0 ? 0 : try cliErrors { try dlq.deleteAll(target.filter, asOf: asOf, batchSize: target.batchSize).affected }
            }
            if json { printJSON(DeletedJSON(deleted: n, requested: total)) } else { print("deleted \(n) of \(total) job(s)") }
        }
    }
}

/// Turns store and server errors into the one-line CLI error.
/// A `--queue` that names no queue is a typo, not an empty DLQ: say so and exit non-zero.
func requireKnownQueue(_ name: String?, _ conn: Connection) throws {
    guard let name else { return }
    _ = try cliErrors { try QueueConfigStore(connection: conn).get(name) }
}

func cliErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() }
    catch let error as QueueStoreError { throw CLIError(error.description) }
    catch let error as PostgresError { throw CLIError(error.description) }
}

func isoTime(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

// `--json` shapes of the dlq commands; the property names are the JSON keys (JSONOutput.swift).
extension DLQCommand {
    /// One job of `dlq list --json`.
    struct JobJSON: Encodable {
        let id: String
        let queue: String
        let job_type: String
        @OrNull var error_type: String?
        @OrNull var error_message: String?
        let attempt_count: Int
        let max_attempts: Int
        @OrNull var last_error_at: String?

        init(_ j: DLQJob) {
            id = j.id.uuidString.lowercased(); queue = j.queue; job_type = j.jobType; error_type = j.errorType
            error_message = j.errorMessage; attempt_count = j.attemptCount; max_attempts = j.maxAttempts
            last_error_at = j.lastErrorAt.map(isoTime)
        }
    }

    /// One group of `dlq groups --json`.
    struct GroupJSON: Encodable {
        let queue: String
        @OrNull var error_type: String?
        let count: Int
        @OrNull var first_error_at: String?
        @OrNull var last_error_at: String?
        @OrNull var sample_message: String?

        init(_ g: DLQGroup) {
            queue = g.queue; error_type = g.errorType; count = g.count; first_error_at = g.firstErrorAt.map(isoTime)
            last_error_at = g.lastErrorAt.map(isoTime); sample_message = g.sampleMessage
        }
    }

    struct RequeuedJSON: Encodable {
        let requeued: Int
        let requested: Int
    }

    struct DeletedJSON: Encodable {
        let deleted: Int
        let requested: Int
    }
}
