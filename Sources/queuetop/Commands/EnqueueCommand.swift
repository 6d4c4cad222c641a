import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop enqueue QUEUE --type T --payload JSON …` or `--from FILE|-` (JSON lines) for bulk.
struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job, or many from JSON lines (--from).",
        discussion: """
            An unknown queue is created with default settings. With --dedup-key, while a job with the
            same queue and key is pending or processing, its id is returned instead of a new job; add
            --unique-for 10m and a job of that key that completed in the last 10 minutes is returned
            with its result instead (cache-first: no work is queued). --expires-in/--expires-at: a job
            still pending then is cancelled as expired, never run. --tenant: whose job it is, for the
            queue's per-tenant caps (tenant_concurrency_limit, tenant_rate_limit_per_s).
            --from reads one JSON object per line: either a bare payload, or
            {"type": …, "payload": …, "priority": …, "dedup_key": …, "run_at": …, "max_attempts": …,
             "unique_for_s": …, "expires_at": …, "tenant": …, "queue": …}
            when it has a "payload" key; missing fields come from the options.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Queue name.") var queue: String
    @Option(name: .long, help: "Job type (handlers dispatch on it).") var type: String?
    @Option(name: .long, help: "JSON payload.") var payload: String?
    @Option(name: .long, help: "Higher runs first (default 0).") var priority: Int?
    @Option(name: .customLong("dedup-key"), help: "No second active job with this key in the queue.") var dedupKey: String?
    @Option(name: .customLong("run-at"), help: "ISO 8601 time to run at (default now).") var runAt: String?
    @Option(name: .customLong("max-attempts"), help: "Attempts before the DLQ (default: the queue's).") var maxAttempts: Int?
    @Option(name: .customLong("unique-for"), help: "With --dedup-key: answer with a job of the key that completed within this period (90s, 10m, 2h, 1d) and its result.") var uniqueFor: String?
    @Option(name: .customLong("expires-in"), help: "Cancel the job as expired if still pending after this long (90s, 10m, 2h, 1d).") var expiresIn: String?
    @Option(name: .customLong("expires-at"), help: "Cancel the job as expired if still pending at this ISO 8601 time.") var expiresAt: String?
    @Option(name: .long, help: "Tenant key for the queue's per-tenant caps.") var tenant: String?
    @Option(name: .long, help: "Read JSON lines from FILE, or - for stdin.") var from: String?
    @Option(name: .customLong("batch-size"), help: "Jobs per statement with --from.") var batchSize = 1000
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let when = try runAt.map { try Self.parseTime($0, option: "--run-at") }
        let options = try JobOptions(self)
        if from != nil {
            guard (1...100_000).contains(batchSize) else { throw CLIError("--batch-size must be between 1 and 100000, got \(batchSize)") }
        } else if type == nil {
            throw CLIError("--type is required (or use --from FILE)")
        }
        // Every line is read and checked before anything is written: a bad line changes nothing.
        let fromLines = try from.map {
            try Self.jobs(fromLines: Self.lines($0), makeJob: { try job(fromLine: $0, number: $1, runAt: when, options: options) })
        }
        let conn = try connection.connect()
        defer { conn.close() }
        let store = JobStore(connection: conn)
        if let jobs = fromLines {
            // One transaction: a batch the database refuses (say, a payload over 1 MiB on line
            // 40 000) rolls back the batches before it too.
            let results = try cliErrors {
                try conn.transaction { _ in
                    try stride(from: 0, to: jobs.count, by: batchSize).flatMap {
                        try store.enqueue(Array(jobs[$0..<min($0 + batchSize, jobs.count)]))
                    }
                }
            }
            let deduplicated = results.filter(\.deduplicated).count
            let cached = results.filter(\.isCacheHit).count
            if json { printJSON(["enqueued": results.count - deduplicated, "deduplicated": deduplicated, "completed_within_period": cached]) }
            else {
                print("enqueued \(results.count - deduplicated) job(s)"
                      + (deduplicated > 0 ? ", \(deduplicated) deduplicated" : "")
                      + (cached > 0 ? " (\(cached) answered by a job completed within its period)" : ""))
            }
            return
        }
        let result = try cliErrors {
            try store.enqueue(options.apply(to: NewJob(queue: queue, type: type ?? "", payload: JSONText(payload ?? "{}"),
                                                       priority: priority, runAt: when, dedupKey: dedupKey,
                                                       maxAttempts: maxAttempts)))
        }
        let id = result.id.uuidString.lowercased()
        if json {
            var fields: [String: Any] = ["id": id, "deduplicated": result.deduplicated, "status": result.status]
            if result.isCacheHit { fields["result"] = result.result.flatMap { try? JSONSerialization.jsonObject(with: Data($0.raw.utf8), options: [.fragmentsAllowed]) } ?? NSNull() }
            printJSON(fields)
        } else if result.isCacheHit {
            print("\(id) (completed within --unique-for; nothing queued)\nresult: \(result.result?.raw ?? "none")")
        } else {
            print(result.deduplicated ? "\(id) (existing \(result.status) job with this dedup key)" : id)
        }
    }

    /// The options that apply to every job, checked once before anything is read or written.
    struct JobOptions {
        var uniqueForSeconds: Int?
        var expiresAt: Date?
        var tenant: String?

        init(_ command: EnqueueCommand) throws {
            uniqueForSeconds = try command.uniqueFor.map { try DurationArgument.seconds($0, option: "--unique-for") }
            if uniqueForSeconds != nil && command.dedupKey == nil && command.from == nil {
                throw CLIError("--unique-for needs --dedup-key: the period applies to jobs with the same key")
            }
            if command.expiresIn != nil && command.expiresAt != nil {
                throw CLIError("give --expires-in or --expires-at, not both")
            }
            if let expiresIn = command.expiresIn {
                expiresAt = Date().addingTimeInterval(Double(try DurationArgument.seconds(expiresIn, option: "--expires-in")))
            } else {
                expiresAt = try command.expiresAt.map { try EnqueueCommand.parseTime($0, option: "--expires-at") }
            }
            tenant = command.tenant
        }

        func apply(to job: NewJob) -> NewJob {
            var job = job
            job.uniqueForSeconds = job.uniqueForSeconds ?? uniqueForSeconds
            job.expiresAt = job.expiresAt ?? expiresAt
            job.tenant = job.tenant ?? tenant
            return job
        }
    }

    /// The jobs of the non-blank lines, in order; the first bad line is an error naming it.
    static func jobs(fromLines lines: [String], makeJob: (String, Int) throws -> NewJob) throws -> [NewJob] {
        var jobs: [NewJob] = []
        for (index, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            jobs.append(try makeJob(line, index + 1))
        }
        guard !jobs.isEmpty else { throw CLIError("no jobs to enqueue: the input has no JSON lines") }
        return jobs
    }

    private func job(fromLine line: String, number: Int, runAt: Date?, options: JobOptions) throws -> NewJob {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
            throw CLIError("line \(number) is not valid JSON; nothing was enqueued")
        }
        guard let fields = object as? [String: Any], fields["payload"] != nil else {
            guard let type else { throw CLIError("line \(number): a bare payload needs --type") }
            return options.apply(to: NewJob(queue: queue, type: type, payload: JSONText(line), priority: priority,
                                            runAt: runAt, dedupKey: dedupKey, maxAttempts: maxAttempts))
        }
        let payloadData = try JSONSerialization.data(withJSONObject: fields["payload"]!, options: [.fragmentsAllowed])
        guard let jobType = (fields["type"] as? String) ?? type else { throw CLIError("line \(number): no \"type\" and no --type") }
        return options.apply(to: NewJob(
            queue: (fields["queue"] as? String) ?? queue, type: jobType,
            payload: JSONText(String(decoding: payloadData, as: UTF8.self)),
            priority: (fields["priority"] as? Int) ?? priority,
            runAt: try (fields["run_at"] as? String).map { try Self.parseTime($0, option: "line \(number): run_at") } ?? runAt,
            dedupKey: (fields["dedup_key"] as? String) ?? dedupKey,
            maxAttempts: (fields["max_attempts"] as? Int) ?? maxAttempts,
            uniqueForSeconds: fields["unique_for_s"] as? Int,
            expiresAt: try (fields["expires_at"] as? String).map { try Self.parseTime($0, option: "line \(number): expires_at") },
            tenant: fields["tenant"] as? String))
    }

    static func lines(_ from: String) throws -> [String] {
        let data: Data
        if from == "-" { data = FileHandle.standardInput.readDataToEndOfFile() }
        else {
            guard let d = FileManager.default.contents(atPath: from) else { throw CLIError("cannot read \(from)") }
            data = d
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func parseTime(_ text: String, option: String) throws -> Date {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        throw CLIError("\(option) \(text): expected an ISO 8601 time such as 2025-11-04T10:00:00Z")
    }
}
