import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop dlq list|groups|requeue|delete|ack|snooze|resolve|reopen|undo`: dead-letter
/// triage from the shell (docs/TRIAGE.md).
struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, requeue and delete dead-letter jobs; triage error groups; undo a requeue.",
        subcommands: [List.self, Groups.self, Requeue.self, Delete.self, Ack.self, Snooze.self, Resolve.self,
                      Reopen.self, Undo.self])

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
                print("\(j.id.uuidString.lowercased())  \(safe: j.queue)  \(safe: j.errorType ?? "-")  attempts \(AttemptsText.of(j.attemptCount, max: j.maxAttempts))  \(j.lastErrorAt.map(isoTime) ?? "-")  \(safe: (j.errorMessage ?? "").prefix(80))")
            }
        }
    }

    struct Groups: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dead-letter jobs grouped by queue and error fingerprint, with each group's triage state.",
            discussion: "A group is QUEUE/FINGERPRINT: the error type plus the message with numbers, ids, e-mails, "
                + "query strings and quoted strings normalised (the pattern). NEW: failed since your database role "
                + "last acknowledged it.")
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
                let mark = g.lifecycle.state == .open ? (g.lifecycle.isNew ? "NEW" : "seen")
                    : g.lifecycle.state == .regressed ? "REGRESSED" : g.lifecycle.state.rawValue
                print("\(g.count)\t\(safe: g.queue)/\(g.fingerprint)\t\(mark)\t\(safe: g.errorType ?? "-")\t"
                      + "last \(g.lastErrorAt.map(isoTime) ?? "-")\t\(safe: g.pattern.prefix(60))\t"
                      + "e.g. \(safe: (g.sampleMessage ?? "").prefix(60))")
            }
        }
    }

    /// One error group on the command line: QUEUE/FINGERPRINT as `dlq groups` prints it.
    struct GroupArgument: ParsableArguments {
        @Argument(help: "The group: QUEUE/FINGERPRINT, as `queuetop dlq groups` lists it.") var group: String

        func ref() throws -> ErrorGroupRef { try cliErrors { try ErrorGroupRef(parsing: group) } }
    }

    struct Ack: GroupTriageCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack",
            abstract: "Acknowledge an error group: seen by your database role, no longer NEW until it fails again.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: GroupArgument
        static let done = "acknowledged"
        static func apply(_ triage: TriageStore, _ group: ErrorGroupRef) throws { try triage.acknowledge(group) }
    }

    struct Snooze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snooze an error group for a time, or until its DLQ count passes N (either or both).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: GroupArgument
        @Option(name: .customLong("for"), help: "How long: 90s, 10m, 2h, 1d.") var duration: String?
        @Option(name: .customLong("until-count"), help: "Until the group holds more than this many jobs.") var untilCount: Int?

        func validate() throws {
            guard duration != nil || untilCount != nil else { throw ValidationError("give --for DURATION, --until-count N, or both") }
            if let n = untilCount, n < 0 { throw ValidationError("--until-count must be 0 or more, got \(n)") }
        }

        func run() throws {
            let group = try target.ref()
            let seconds = try duration.map { try DurationArgument.seconds($0, option: "--for") }
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let triage = TriageStore(connection: conn)
            let until = try seconds.map { s in try cliErrors { try DLQStore(connection: conn).now() }.addingTimeInterval(Double(s)) }
            try cliErrors { try triage.snooze(group, until: until, above: untilCount) }
            let why = [until.map { "until \(isoTime($0))" }, untilCount.map { "until it holds more than \($0) jobs" }]
                .compactMap { $0 }.joined(separator: ", or ")
            print("snoozed \(safe: group.description) \(why)")
        }
    }

    struct Resolve: GroupTriageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve an error group: its next failure marks it REGRESSED and fires the alert hooks once.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: GroupArgument
        static let done = "resolved"
        static func apply(_ triage: TriageStore, _ group: ErrorGroupRef) throws { try triage.resolve(group) }
    }

    struct Reopen: GroupTriageCommand {
        static let configuration = CommandConfiguration(abstract: "Reopen an error group (after resolve or snooze).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: GroupArgument
        static let done = "reopened"
        static func apply(_ triage: TriageStore, _ group: ErrorGroupRef) throws { try triage.reopen(group) }
    }

    struct Undo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo a requeue, given its audit row: its jobs that have not started yet go back to the DLQ as they were.",
            discussion: "The audit id is printed by `dlq requeue` and listed by the dashboard's Audit screen. Jobs that "
                + "started, finished or were deleted since stay as they are. The undo is audited (dlq.undo).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The audit id of the requeue.") var auditID: Int64
        @Flag(name: .long, help: "Do not ask for confirmation.") var yes = false
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let triage = TriageStore(connection: conn)
            let undoable = try cliErrors { try triage.undoableCount(auditID: auditID) }
            try confirmDestructiveAction("Undo requeue #\(auditID): put \(undoable) job(s) not started yet back in the DLQ?", yes: yes)
            let n = try cliErrors { try triage.undoRequeue(auditID: auditID) }
            if json { printJSON(UndoneJSON(undone: n, audit_id: auditID)) }
            else { print("undid requeue #\(auditID): \(n) job(s) back in the DLQ") }
        }
    }

    /// What a requeue or delete targets: explicit ids, or a filter (--error-type / --all, --queue).
    struct Target: ParsableArguments {
        @Argument(help: "Job ids.") var ids: [String] = []
        @Option(name: .customLong("error-type"), help: "Every dead-letter job with this error type.") var errorType: String?
        @Option(name: .long, help: "Every dead-letter job of one error group: QUEUE/FINGERPRINT (see `dlq groups`).") var group: String?
        @Flag(name: .long, help: "Every dead-letter job (of --queue, if given).") var all = false
        @Option(name: .long) var queue: String?
        @Option(name: .customLong("batch-size"), help: "Jobs per transaction for bulk actions.") var batchSize = 1000
        @Flag(name: .long, help: "Do not ask for confirmation.") var yes = false

        func validate() throws {
            let modes = [!ids.isEmpty, errorType != nil, group != nil, all].filter { $0 }.count
            guard modes == 1 else { throw ValidationError("give job ids, or --error-type T, or --group QUEUE/FINGERPRINT, or --all (exactly one)") }
            if group != nil, queue != nil { throw ValidationError("--group names its queue already; drop --queue") }
            if let group { _ = try cliErrors { try ErrorGroupRef(parsing: group) } }
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

        var filter: DLQFilter {
            if let group, let ref = try? ErrorGroupRef(parsing: group) {
                return DLQFilter(queue: ref.queue, fingerprint: ref.fingerprint)
            }
            return DLQFilter(queue: queue, errorType: errorType)
        }
        var describe: String {
            if let group { return "group \(SafeText.oneLine(group))" }
            return [queue.map { "queue \(SafeText.oneLine($0))" }, errorType.map { "error type \(SafeText.oneLine($0))" }]
                .compactMap { $0 }.joined(separator: ", ")
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
            try requireKnownQueue(target.filter.queue, conn)
            let asOf = try cliErrors { try dlq.now() }
            let preview = try cliErrors { try dlq.count(target.filter, asOf: asOf) }
            if preview == 0 { report(0, of: 0); return }
            // The sample is of exactly the jobs the requeue will touch (same filter, same as_of).
            let sample = try cliErrors { try dlq.sample(target.filter, asOf: asOf) }
            if !json || !target.yes { printSample(sample, of: preview) }
            try confirmDestructiveAction("Requeue \(preview) dead-letter job(s)\(target.describe.isEmpty ? "" : " (\(target.describe))")\(connection.context.map { " on context \($0)" } ?? "")?", yes: target.yes)
            let result = try cliErrors {
                try dlq.requeueAll(target.filter, resetAttempts: resetAttempts, asOf: asOf, batchSize: target.batchSize)
            }
            report(result.affected, of: preview, auditID: result.auditID)
        }

        /// Up to 5 of the jobs, on stderr so a script reading stdout gets only the result.
        func printSample(_ sample: [DLQJob], of total: Int) {
            guard !sample.isEmpty else { return }
            printError("sample of \(sample.count) of \(total):")
            for j in sample {
                printError("  \(j.id.uuidString.lowercased())  \(SafeText.oneLine(j.jobType))  "
                           + "\(SafeText.oneLine(String((j.errorMessage ?? "").prefix(80))))")
            }
        }

        func report(_ n: Int, of total: Int, auditID: Int64? = nil) {
            if json { printJSON(RequeuedJSON(requeued: n, requested: total, audit_id: auditID)) }
            else {
                if n == total { print("requeued \(n) job(s)") }
                else { print("requeued \(n) of \(total) job(s); the others are no longer in the DLQ or their dedup key is active") }
                if let auditID, n > 0 { print("undo with: queuetop dlq undo \(auditID)") }
            }
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
                try requireKnownQueue(target.filter.queue, conn)
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

/// ack, resolve and reopen: one error group, one triage call, one line saying it was done.
/// (The SQL audits each one.)
protocol GroupTriageCommand: ParsableCommand {
    var connection: ConnectionOptions { get }
    var target: DLQCommand.GroupArgument { get }
    /// The past tense the confirmation line starts with.
    static var done: String { get }
    static func apply(_ triage: TriageStore, _ group: ErrorGroupRef) throws
}

extension GroupTriageCommand {
    func run() throws {
        let group = try target.ref()
        let conn = try connection.connectToWrite()
        defer { conn.close() }
        try cliErrors { try Self.apply(TriageStore(connection: conn), group) }
        print("\(Self.done) \(safe: group.description)")
    }
}

/// A `--queue` that names no queue is a typo, not an empty DLQ: say so and exit non-zero.
func requireKnownQueue(_ name: String?, _ conn: Connection) throws {
    guard let name else { return }
    _ = try cliErrors { try QueueConfigStore(connection: conn).get(name) }
}

/// Turns store and server errors into the one-line CLI error.
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
    /// A DLQ error group: queue + fingerprint, its pattern and its lifecycle (docs/TRIAGE.md).
    struct GroupJSON: Encodable {
        let queue: String
        let group: String
        let fingerprint: String
        @OrNull var error_type: String?
        let pattern: String
        let count: Int
        @OrNull var first_error_at: String?
        @OrNull var last_error_at: String?
        @OrNull var sample_message: String?
        let state: String
        let new: Bool
        @OrNull var acknowledged_at: String?
        @OrNull var snoozed_until: String?
        @OrNull var snooze_above: Int?
        @OrNull var regressed_at: String?

        init(_ g: DLQGroup) {
            let l = g.lifecycle
            queue = g.queue; group = "\(g.queue)/\(g.fingerprint)"; fingerprint = g.fingerprint; error_type = g.errorType
            pattern = g.pattern; count = g.count; first_error_at = g.firstErrorAt.map(isoTime)
            last_error_at = g.lastErrorAt.map(isoTime); sample_message = g.sampleMessage
            state = l.state.rawValue; new = l.isNew; acknowledged_at = l.ackedAt.map(isoTime)
            snoozed_until = l.snoozedUntil.map(isoTime); snooze_above = l.snoozeAbove; regressed_at = l.regressedAt.map(isoTime)
        }
    }

    /// `audit_id` names the requeue for `dlq undo` (null when nothing was requeued by this call).
    struct RequeuedJSON: Encodable {
        let requeued: Int
        let requested: Int
        @OrNull var audit_id: Int64?
    }

    struct UndoneJSON: Encodable {
        let undone: Int
        let audit_id: Int64
    }

    struct DeletedJSON: Encodable {
        let deleted: Int
        let requested: Int
    }
}
