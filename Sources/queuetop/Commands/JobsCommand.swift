import ArgumentParser
import Foundation
import JobFilter
import Postgres
import QueueStore

/// `queuetop jobs list|count|cancel|retry|requeue|delete|priority --where FILTER`: find any job
/// with the filter language (docs/JOBS.md), and act on everything a filter matches.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Find jobs with a filter (queue:emails state:dead payload.to=…) and act on all that match.",
        discussion: HelpText.reflow("""
            Terms: queue: type: state:(pending|scheduled|retrying|running|completed|cancelled|dead) tenant: key: \
            error:"text" worker: age>30m age<2h since:14:00 since:2026-12-01T10:00 id:PART payload.a.b=value \
            payload?key. Terms combine with AND; -term negates; quote values with "..." (\\" and \\\\ escape). \
            The language is in docs/JOBS.md.
            """),
        subcommands: [List.self, Count.self, Cancel.self, Retry.self, Requeue.self, Delete.self, Priority.self])

    /// `--where`, parsed before anything connects: a bad filter is a usage error naming the term.
    struct Where: ParsableArguments {
        @Option(name: .long, help: "The filter, e.g. 'queue:emails state:dead error:\"smtp 550\"'.") var `where`: String

        func filter() throws -> JobFilter {
            do { return try JobFilter.parse(`where`) } catch {
                throw ValidationError("bad --where filter: \(SafeText.oneLine(error.description))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List matching jobs, newest first.",
            discussion: "Payload and error terms read at most --window rows per page (newest first); --after continues.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @Option(name: .long, help: "At most this many jobs, 1 to 10000.") var limit = 50
        @Option(name: .long, help: "newest or oldest first.") var sort = "newest"
        @Option(name: .long, help: "Continue after this job id (the previous page's next).") var after: String?
        @Option(name: .long, help: "Rows a payload/error term may read, 1 to 10000000.") var window = JobSearchRequest.defaultWindow
        @Option(name: .long, help: "Time limit in seconds (all chunks of a payload window read together).") var timeout = 5.0
        @Flag(name: .long, help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000, got \(limit)") }
            guard JobSort(rawValue: sort) != nil else { throw ValidationError("--sort must be newest or oldest, got \(SafeText.oneLine(sort))") }
            guard (1...10_000_000).contains(window) else { throw ValidationError("--window must be between 1 and 10000000, got \(window)") }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
            if let after, JobIDText.parse(after) == nil { throw ValidationError(JobIDText.notAJobID(after)) }
            _ = try target.filter()
        }

        func run() throws {
            let filter = try target.filter()
            let sortOrder = JobSort(rawValue: sort)!
            let conn = try connection.connect()
            defer { conn.close() }
            let request = JobSearchRequest(filter: filter, sort: sortOrder, after: after.flatMap(JobIDText.parse),
                                           limit: limit, window: window, timeout: timeout)
            let page = try cliErrors { try JobSearchStore(connection: conn).search(request) }
            if json {
                printJSON(JobListJSON(page: page, filter: filter, sort: sortOrder))
                return
            }
            if page.jobs.isEmpty { print("no jobs match \(safe: filter.description)") }
            for j in page.jobs { print(JobsTable.line(j)) }
            if let scan = page.window { print(scan.describe(sort: sortOrder, queue: filter.queue)) }
            if let next = page.next { print("more: --after \(next.uuidString.lowercased())") }
        }
    }

    struct Count: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count matching jobs (exact up to --cap, else \"≥ N\").")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @Option(name: .long, help: "Count exactly up to this many.") var cap = 1_000_000
        @Option(name: .long, help: "Rows a payload/error term may read.") var window = JobSearchRequest.defaultWindow
        @Option(name: .long, help: "Time limit in seconds (all chunks of a payload window read together).") var timeout = 30.0
        @Flag(name: .long, help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...100_000_000).contains(cap) else { throw ValidationError("--cap must be between 1 and 100000000, got \(cap)") }
            guard (1...10_000_000).contains(window) else { throw ValidationError("--window must be between 1 and 10000000, got \(window)") }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
            _ = try target.filter()
        }

        func run() throws {
            let filter = try target.filter()
            let conn = try connection.connect()
            defer { conn.close() }
            let count = try cliErrors { try JobSearchStore(connection: conn).count(filter, cap: cap, window: window, timeout: timeout) }
            if json { printJSON(JobCountJSON(count: count.value, exact: count.exact, where: filter.description)) }
            else { print(count.description) }
        }
    }

    /// What every bulk subcommand takes besides the filter.
    struct BulkOptions: ParsableArguments {
        @Option(name: .customLong("batch-size"), help: "Jobs per transaction, 1 to 100000.") var batchSize = 1000
        @Option(name: .long, help: "Statement timeout of the count and of each batch, in seconds.") var timeout = 60.0
        @Flag(name: .long, help: "Do not ask for confirmation (needed when stdin is not a terminal).") var yes = false
        @Flag(name: .long, help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be between 1 and 100000, got \(batchSize)") }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        }
    }

    struct Cancel: JobsBulkSubcommand {
        static let configuration = CommandConfiguration(abstract: "Cancel matching pending, scheduled and retrying jobs (audited).")
        static var action: JobBulkAction { .cancel }
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @OptionGroup var options: BulkOptions
    }

    struct Retry: JobsBulkSubcommand {
        static let configuration = CommandConfiguration(abstract: "Run matching pending, scheduled and retrying jobs now (audited).")
        static var action: JobBulkAction { .runNow }
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @OptionGroup var options: BulkOptions
    }

    struct Requeue: JobsBulkSubcommand {
        static let configuration = CommandConfiguration(abstract: "Requeue matching dead and cancelled jobs, attempts reset (audited).")
        static var action: JobBulkAction { .requeue }
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @OptionGroup var options: BulkOptions
    }

    struct Delete: JobsBulkSubcommand {
        static let configuration = CommandConfiguration(abstract: "Delete matching dead, cancelled and completed jobs for good (audited).")
        static var action: JobBulkAction { .delete }
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @OptionGroup var options: BulkOptions
    }

    struct Priority: JobsBulkSubcommand {
        static let configuration = CommandConfiguration(abstract: "Set the priority of matching pending, scheduled and retrying jobs (audited).")
        static var action: JobBulkAction { .priority }
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: Where
        @Option(name: .long, help: "The new priority, -1000000 to 1000000 (higher runs first).") var set: Int
        @OptionGroup var options: BulkOptions
        var priority: Int? { self.set }
        func validate() throws {
            guard (-1_000_000...1_000_000).contains(set) else { throw ValidationError("--set must be between -1000000 and 1000000, got \(set)") }
            _ = try target.filter()
        }
    }
}

/// cancel, retry, requeue, delete and priority: one shape (the filter, the bulk options, one
/// action); each subcommand names its action, priority adds the new value.
protocol JobsBulkSubcommand: ParsableCommand {
    static var action: JobBulkAction { get }
    var connection: ConnectionOptions { get }
    var target: JobsCommand.Where { get }
    var options: JobsCommand.BulkOptions { get }
    /// The new priority (`jobs priority --set`); nil for the other actions.
    var priority: Int? { get }
}

extension JobsBulkSubcommand {
    var priority: Int? { nil }
    func validate() throws { _ = try target.filter() }
    func run() throws { try runBulk(Self.action, connection: connection, target: target, options: options, priority: priority) }
}

/// Preview (exact count and five jobs, pinned to the server's now), confirm, run in batches with a
/// progress line on a terminal, report. Refused on a standby before anything is counted.
private func runBulk(_ action: JobBulkAction, connection: ConnectionOptions, target: JobsCommand.Where,
                     options: JobsCommand.BulkOptions, priority: Int? = nil) throws {
    let filter = try target.filter()
    let conn = try connection.connectToWrite()
    defer { conn.close() }
    let store = JobBulkStore(connection: conn)
    let preview = try cliErrors { try store.preview(action, filter: filter, timeout: options.timeout) }
    let asOf = isoTime(preview.asOf)
    guard preview.count > 0 else {
        if options.json { printJSON(bulkJSON(action, preview, changed: 0, auditID: nil)) }
        else { print("no \(action.states.map(\.rawValue).joined(separator: "/")) jobs match \(safe: filter.description) as of \(asOf); nothing changed") }
        return
    }
    if !options.yes {
        var question = "\(action.verb.prefix(1).uppercased() + action.verb.dropFirst()) \(preview.count) job(s) matching \(filter.description) as of \(asOf)"
        if let priority { question += " to priority \(priority)" }
        let sample = preview.sample.map { "  " + JobsTable.line($0) }.joined(separator: "\n")
        FileHandle.standardError.write(Data((SafeText.lines("for example:\n" + sample) + "\n").utf8))
        try confirmDestructiveAction(question + "?", yes: false)
    }
    // On a terminal: a progress line on stderr (never in --json output). Anywhere: SIGINT stops
    // after the batch in flight (a second one ends at once; committed batches stay done either way).
    let showProgress = !options.json && isatty(STDERR_FILENO) == 1
    let interrupt = BulkInterrupt()
    defer { interrupt.restore() }
    let result: JobBulkResult
    do {
        result = try cliErrors {
            try store.apply(preview, priority: priority, batchSize: options.batchSize, batchTimeout: options.timeout,
                            shouldStop: { interrupt.requested }) { progress in
                if showProgress {
                    let hint = isatty(STDIN_FILENO) == 1 ? " — ^C stops after this batch" : ""
                    FileHandle.standardError.write(Data("\r\u{1b}[K\(progress.line())\(hint)".utf8))
                }
            }
        }
    } catch let interrupted as JobBulkInterrupted {
        if showProgress { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
        throw CLIError("\(SafeText.oneLine(interrupted.description))")
    }
    if showProgress { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
    if options.json { printJSON(bulkJSON(action, preview, changed: result.affected, auditID: result.auditID, stopped: result.stopped)); return }
    let past = switch action {
    case .runNow: "made due now"
    case .cancel: "cancelled"
    case .requeue: "requeued"
    case .delete: "deleted"
    case .priority: "reprioritised"
    }
    var line = "\(past) \(result.affected) of \(preview.count) job(s)"
    if result.stopped { line += "; stopped on ^C, the rest were left as they were" }
    else if result.affected < preview.count { line += "; the others changed state since \(asOf) and were left alone" }
    print(line + " (audit #\(result.auditID))")
}

private func bulkJSON(_ action: JobBulkAction, _ preview: JobBulkPreview, changed: Int, auditID: Int64?,
                      stopped: Bool = false) -> JobBulkJSON {
    JobBulkJSON(action: action.rawValue, where: preview.filter.description, as_of: isoTime(preview.asOf),
                matched: preview.count, changed: changed, stopped: stopped, audit_id: auditID,
                sample: preview.sample.map { $0.id.uuidString.lowercased() })
}

/// `jobs count --json`.
struct JobCountJSON: Encodable {
    let count: Int
    let exact: Bool
    let `where`: String
}

/// `jobs cancel|retry|requeue|delete|priority --json`: what matched at the as-of, what changed.
struct JobBulkJSON: Encodable {
    let action, `where`, as_of: String
    let matched, changed: Int
    /// SIGINT stopped it between batches: `changed` were done, the rest left as they were.
    let stopped: Bool
    let audit_id: Int64?
    let sample: [String]
}

/// One job per line in `jobs list` and in a bulk confirmation.
enum JobsTable {
    static func line(_ j: JobSummary) -> String {
        var cols = [j.id.uuidString.lowercased(), j.state.rawValue, SafeText.oneLine(j.queue), SafeText.oneLine(j.jobType),
                    isoTime(j.createdAt)]
        if let tenant = j.tenant { cols.append("tenant=" + SafeText.oneLine(tenant)) }
        if let worker = j.lockedBy, j.state == .running { cols.append("worker=" + SafeText.oneLine(worker)) }
        if let reason = j.cancelReason, j.state == .cancelled { cols.append("reason=" + reason) }
        if let message = j.errorMessage, j.state == .dead || j.state == .retrying {
            cols.append(SafeText.oneLine(String(message.prefix(80))))
        }
        return cols.joined(separator: "  ")
    }
}

/// `jobs list --json`: the page, where the next one starts, and what a window search read.
struct JobListJSON: Encodable {
    struct Job: Encodable {
        let id, queue, job_type, state: String
        let priority, attempt_count, max_attempts: Int
        let tenant, dedup_key, locked_by, cancel_reason, error_type, error_message: String?
        let created_at, run_at: String
        let started_at, heartbeat_at, completed_at: String?
    }
    struct Window: Encodable { let rows_read, limit: Int; let truncated: Bool; let message: String }
    let `where`: String
    let sort: String
    let jobs: [Job]
    let next: String?
    let window: Window?

    init(page: JobSearchPage, filter: JobFilter, sort: JobSort) {
        `where` = filter.description
        self.sort = sort.rawValue
        jobs = page.jobs.map {
            Job(id: $0.id.uuidString.lowercased(), queue: $0.queue, job_type: $0.jobType, state: $0.state.rawValue,
                priority: $0.priority, attempt_count: $0.attemptCount, max_attempts: $0.maxAttempts, tenant: $0.tenant,
                dedup_key: $0.dedupKey, locked_by: $0.lockedBy, cancel_reason: $0.cancelReason, error_type: $0.errorType,
                error_message: $0.errorMessage, created_at: isoTime($0.createdAt), run_at: isoTime($0.runAt),
                started_at: $0.startedAt.map(isoTime), heartbeat_at: $0.heartbeatAt.map(isoTime),
                completed_at: $0.completedAt.map(isoTime))
        }
        next = page.next?.uuidString.lowercased()
        window = page.window.map {
            Window(rows_read: $0.rowsRead, limit: $0.limit, truncated: $0.truncated,
                   message: $0.describe(sort: sort, queue: filter.queue))
        }
    }
}
