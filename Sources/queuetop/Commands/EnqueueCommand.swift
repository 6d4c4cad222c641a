import ArgumentParser
import Contexts
import Foundation
import Postgres
import QueueStore

/// `queuetop enqueue QUEUE --type T --payload JSON …` or `--from FILE|-` (JSON lines) for bulk.
struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job, or many from JSON lines (--from).",
        discussion: HelpText.reflow("""
            An unknown queue is created with default settings. With --dedup-key, while a job with the
            same queue and key is pending or processing, its id is returned instead of a new job; add
            --unique-for 10m and a job of that key that completed in the last 10 minutes is returned
            with its result instead (cache-first: no work is queued). --expires-in/--expires-at: a job
            still pending then is cancelled as expired, never run. --tenant: whose job it is, for the
            queue's per-tenant caps (tenant_concurrency_limit, tenant_rate_limit_per_s).

            --from reads one JSON object per line: either a bare payload, or, when it has a "payload"
            key, an object of these (missing or null fields come from the options):
              {"type": …, "payload": …, "priority": …, "dedup_key": …, "run_at": …,
               "max_attempts": …, "unique_for_s": …, "expires_at": …,
               "tenant": …, "queue": …}
            Every field is
            type-checked and an unknown key is an error: the whole input is checked before anything
            is sent, and a bad line enqueues nothing. Times are ISO 8601 with a zone, between
            1970-01-01 and 9999-12-31 UTC; a payload may be at most 1 MiB.

            --group G (a [groups.G] of the contexts file) sends the job to one shard of G, chosen by a stable
            hash of --tenant, else of --dedup-key (one of them is required), so a key always lands on the
            same database and dedup and tenant caps hold (docs/SCALING.md, "Choosing the shard").
            """))

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Queue name.") var queue: String
    @Option(name: .long, help: "Job type (handlers dispatch on it).") var type: String?
    @Option(name: .long, help: "JSON payload.") var payload: String?
    @Option(name: .long, parsing: .unconditional, help: "Higher runs first, -1000000…1000000 (default 0).") var priority: Int?
    @Option(name: .customLong("dedup-key"), help: "No second active job with this key in the queue.") var dedupKey: String?
    @Option(name: .customLong("run-at"), help: "ISO 8601 time to run at (default now).") var runAt: String?
    @Option(name: .customLong("max-attempts"), parsing: .unconditional, help: "Attempts before the DLQ (default: the queue's).") var maxAttempts: Int?
    @Option(name: .customLong("unique-for"), parsing: .unconditional, help: "With --dedup-key: answer with a job of the key that completed within this period (90s, 10m, 2h, 1d) and its result.") var uniqueFor: String?
    @Option(name: .customLong("expires-in"), parsing: .unconditional, help: "Cancel the job as expired if still pending after this long (90s, 10m, 2h, 1d).") var expiresIn: String?
    @Option(name: .customLong("expires-at"), help: "Cancel the job as expired if still pending at this ISO 8601 time.") var expiresAt: String?
    @Option(name: .long, help: "Tenant key for the queue's per-tenant caps.") var tenant: String?
    @Option(name: .long, help: "Read JSON lines from FILE, or - for stdin.") var from: String?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Jobs per statement with --from.") var batchSize = 1000
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Option(name: .long, help: "Send the job to the shard of this contexts-file group that --tenant (else --dedup-key) hashes to.") var group: String?

    func run() throws {
        // Every option is checked before anything is read, connected to or written.
        let when = try runAt.map { try TimeArgument.parse($0, option: "--run-at") }
        _ = try priority.map { try IntegerArgument.check($0, Self.priorities, name: "--priority") }
        _ = try maxAttempts.map { try IntegerArgument.check($0, Self.attempts, name: "--max-attempts") }
        let options = try JobOptions(self)
        if from != nil {
            guard (1...100_000).contains(batchSize) else { throw CLIError("--batch-size must be between 1 and 100000, got \(batchSize)") }
        } else if type == nil {
            throw CLIError("--type is required (or use --from FILE)")
        } else if let payload {
            try PayloadLimit.check(payload, what: "the --payload")
        }
        // Every line is read and checked before anything is written: a bad line changes nothing.
        let fromLines = try from.map {
            try Self.jobs(fromLines: BoundedLines.read($0, maxLineBytes: PayloadLimit.lineBytes),
                          source: $0 == "-" ? "standard input" : $0,
                          makeJob: { try job(fromLine: $0, number: $1, runAt: when, options: options) })
        }
        let shard = try groupShard()
        let conn = try shard.map { try connection.connectToWrite(context: $0) } ?? connection.connectToWrite()
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
            if json { printJSON(BatchJSON(enqueued: results.count - deduplicated, deduplicated: deduplicated, completed_within_period: cached)) }
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
            printJSON(JobJSON(id: id, deduplicated: result.deduplicated, status: result.status, context: shard?.name,
                              result: result.isCacheHit ? .some(result.result.map { EmbeddedJSON($0.raw) }) : .none))
        } else if result.isCacheHit {
            print("\(id) (completed within --unique-for; nothing queued)\nresult: \(result.result?.raw ?? "none")")
        } else {
            print(result.deduplicated ? "\(id) (existing \(result.status) job with this dedup key)" : id)
        }
        if let shard, !json { printError("queuetop: enqueued on context \(shard.name) (group \(group ?? ""))") }
    }

    /// `--group`: the context of the group's shard for this job's key; nil without the option.
    private func groupShard() throws -> ContextDefinition? {
        guard let group else { return nil }
        if connection.context != nil || connection.db != nil {
            throw CLIError("--group picks the database itself: leave out --context and --db")
        }
        if from != nil { throw CLIError("--group enqueues one job (each line of --from may belong to another shard): run one enqueue per job") }
        let file = try connection.contextsFile()
        let definition = try contextErrors { try file.group(named: group) }
        guard definition.queue == queue else {
            throw CLIError("group \(group) shards queue \(definition.queue), not \(queue)")
        }
        guard let key = tenant ?? dedupKey else {
            throw CLIError("--group needs --tenant or --dedup-key: the shard is chosen by hashing one of them, so the same key always lands on the same database")
        }
        return try contextErrors { try file.context(named: ShardHash.shard(for: key, in: definition)) }
    }

    /// The options that apply to every job, checked once before anything is read or written.
    struct JobOptions {
        var uniqueForSeconds: Int?
        var expiresAt: Date?
        var tenant: String?

        init(_ command: EnqueueCommand) throws {
            uniqueForSeconds = try command.uniqueFor.map {
                try IntegerArgument.check(try DurationArgument.seconds($0, option: "--unique-for"), EnqueueCommand.uniqueForRange,
                                          name: "--unique-for (in seconds)")
            }
            if uniqueForSeconds != nil && command.dedupKey == nil && command.from == nil {
                throw CLIError("--unique-for needs --dedup-key: the period applies to jobs with the same key")
            }
            if command.expiresIn != nil && command.expiresAt != nil {
                throw CLIError("give --expires-in or --expires-at, not both")
            }
            if let expiresIn = command.expiresIn {
                expiresAt = Date().addingTimeInterval(Double(try DurationArgument.seconds(expiresIn, option: "--expires-in")))
            } else {
                expiresAt = try command.expiresAt.map { try TimeArgument.parse($0, option: "--expires-at") }
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

    static let priorities = -1_000_000...1_000_000
    static let attempts = 1...1000
    static let uniqueForRange = 1...31_536_000
    /// The keys of a `--from` line that has a "payload".
    static let fields = ["type", "payload", "priority", "dedup_key", "run_at", "max_attempts", "unique_for_s",
                         "expires_at", "tenant", "queue"]

    /// The jobs of the non-blank lines, in order; the first bad line is an error naming it.
    static func jobs(fromLines lines: [String], source: String, makeJob: (String, Int) throws -> NewJob) throws -> [NewJob] {
        var jobs: [NewJob] = []
        for (index, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            jobs.append(try makeJob(line, index + 1))
        }
        guard !jobs.isEmpty else { throw CLIError("no jobs in \(source): it has no JSON lines; nothing was enqueued") }
        return jobs
    }

    private func job(fromLine line: String, number: Int, runAt: Date?, options: JobOptions) throws -> NewJob {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
            throw CLIError("line \(number) is not valid JSON; nothing was enqueued")
        }
        guard let fields = object as? [String: Any], let payload = fields["payload"] else {
            guard let type else { throw CLIError("line \(number): a bare payload needs --type") }
            try PayloadLimit.check(line, what: "line \(number): the payload")
            return options.apply(to: NewJob(queue: queue, type: type, payload: JSONText(line), priority: priority,
                                            runAt: runAt, dedupKey: dedupKey, maxAttempts: maxAttempts))
        }
        let line = JSONLineFields(fields: fields, number: number)
        if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw CLIError("line \(number): unknown field \(unknown.debugDescription) (expected \(Self.fields.joined(separator: ", "))); "
                           + "nothing was enqueued")
        }
        let payloadText: String
        do {
            payloadText = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.fragmentsAllowed, .withoutEscapingSlashes]),
                                 as: UTF8.self)
        } catch {
            throw CLIError("line \(number): \"payload\" cannot be read as JSON; nothing was enqueued")
        }
        try PayloadLimit.check(payloadText, what: "line \(number): the payload")
        guard let jobType = try line.string("type") ?? type else { throw CLIError("line \(number): no \"type\" and no --type") }
        let queueName = try line.string("queue") ?? queue
        guard !jobType.isEmpty, !queueName.isEmpty else {
            throw CLIError("line \(number): \(jobType.isEmpty ? "\"type\"" : "\"queue\"") must not be empty; nothing was enqueued")
        }
        return options.apply(to: NewJob(
            queue: queueName, type: jobType, payload: JSONText(payloadText),
            priority: try line.integer("priority", Self.priorities) ?? priority,
            runAt: try line.time("run_at") ?? runAt,
            dedupKey: try line.string("dedup_key") ?? dedupKey,
            maxAttempts: try line.integer("max_attempts", Self.attempts) ?? maxAttempts,
            uniqueForSeconds: try line.integer("unique_for_s", Self.uniqueForRange),
            expiresAt: try line.time("expires_at"),
            tenant: try line.string("tenant")))
    }
}

/// The fields of one `--from` line, each read as exactly its type: a number is not a string,
/// `true` is not 1, 1.5 is not a whole number. Absent and null mean "not given".
struct JSONLineFields {
    let fields: [String: Any]
    let number: Int

    private func value(_ key: String) -> Any? {
        guard let v = fields[key], !(v is NSNull) else { return nil }
        return v
    }

    private func wrongType(_ key: String, _ expected: String, _ value: Any) -> CLIError {
        CLIError("line \(number): \"\(key)\" must be \(expected), got \(Self.describe(value)); nothing was enqueued")
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case let s as String: return "the string \(String(s.prefix(40)).debugDescription)"
        case let n as NSNumber where String(cString: n.objCType) == "c": return n.boolValue ? "true" : "false"
        case let n as NSNumber: return "the number \(n)"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw wrongType(key, "a string", v) }
        return s
    }

    func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v = value(key) else { return nil }
        // JSON true/false arrive as NSNumber too (objCType "c"): not numbers here.
        guard let n = v as? NSNumber, String(cString: n.objCType) != "c", let i = v as? Int else {
            throw wrongType(key, "a whole number between \(range.lowerBound) and \(range.upperBound)", v)
        }
        return try IntegerArgument.check(i, range, name: "line \(number): \"\(key)\"")
    }

    func time(_ key: String) throws -> Date? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw wrongType(key, "an ISO 8601 time string such as \"2026-11-04T10:00:00Z\"", v) }
        return try TimeArgument.parse(s, option: "line \(number): \"\(key)\"")
    }
}

// `--json` shapes of enqueue; the property names are the JSON keys (JSONOutput.swift).
extension EnqueueCommand {
    /// One job enqueued. `result` is there only when a job completed within --unique-for
    /// answered (its stored result, or null when it kept none); otherwise the key is left out.
    struct JobJSON: Encodable {
        let id: String
        let deduplicated: Bool
        let status: String
        /// The shard's context, only with `--group`.
        let context: String?
        let result: EmbeddedJSON??

        private enum CodingKeys: String, CodingKey { case id, deduplicated, status, context, result }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(deduplicated, forKey: .deduplicated)
            try c.encode(status, forKey: .status)
            try c.encodeIfPresent(context, forKey: .context)
            if case let .some(cached) = result { try c.encode(cached, forKey: .result) }  // Optional: nil is null
        }
    }

    /// `enqueue --from … --json`: counts of the whole file.
    struct BatchJSON: Encodable {
        let enqueued: Int
        let deduplicated: Int
        let completed_within_period: Int
    }
}
