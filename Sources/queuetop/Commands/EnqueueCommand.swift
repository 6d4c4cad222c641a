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
            same queue and key is pending or processing, its id is returned instead of a new job.
            --from reads one JSON object per line: either a bare payload, or
            {"type": …, "payload": …, "priority": …, "dedup_key": …, "run_at": …, "max_attempts": …, "queue": …}
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
    @Option(name: .long, help: "Read JSON lines from FILE, or - for stdin.") var from: String?
    @Option(name: .customLong("batch-size"), help: "Jobs per statement with --from.") var batchSize = 1000
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() throws {
        let when = try runAt.map(Self.parseTime)
        if from != nil {
            guard (1...100_000).contains(batchSize) else { throw CLIError("--batch-size must be between 1 and 100000, got \(batchSize)") }
        } else if type == nil {
            throw CLIError("--type is required (or use --from FILE)")
        }
        // Every line is read and checked before anything is written: a bad line changes nothing.
        let fromLines = try from.map { try Self.jobs(fromLines: Self.lines($0), makeJob: { try job(fromLine: $0, number: $1, runAt: when) }) }
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
            if json { printJSON(["enqueued": results.count - deduplicated, "deduplicated": deduplicated]) }
            else { print("enqueued \(results.count - deduplicated) job(s)\(deduplicated > 0 ? ", \(deduplicated) deduplicated" : "")") }
            return
        }
        let result = try cliErrors {
            try store.enqueue(NewJob(queue: queue, type: type ?? "", payload: JSONText(payload ?? "{}"),
                                     priority: priority, runAt: when, dedupKey: dedupKey, maxAttempts: maxAttempts))
        }
        if json { printJSON(["id": result.id.uuidString.lowercased(), "deduplicated": result.deduplicated]) }
        else { print(result.deduplicated ? "\(result.id.uuidString.lowercased()) (existing job with this dedup key)" : result.id.uuidString.lowercased()) }
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

    private func job(fromLine line: String, number: Int, runAt: Date?) throws -> NewJob {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
            throw CLIError("line \(number) is not valid JSON; nothing was enqueued")
        }
        guard let fields = object as? [String: Any], fields["payload"] != nil else {
            guard let type else { throw CLIError("line \(number): a bare payload needs --type") }
            return NewJob(queue: queue, type: type, payload: JSONText(line), priority: priority, runAt: runAt,
                          dedupKey: dedupKey, maxAttempts: maxAttempts)
        }
        let payloadData = try JSONSerialization.data(withJSONObject: fields["payload"]!, options: [.fragmentsAllowed])
        guard let jobType = (fields["type"] as? String) ?? type else { throw CLIError("line \(number): no \"type\" and no --type") }
        return NewJob(queue: (fields["queue"] as? String) ?? queue, type: jobType,
                      payload: JSONText(String(decoding: payloadData, as: UTF8.self)),
                      priority: (fields["priority"] as? Int) ?? priority,
                      runAt: try (fields["run_at"] as? String).map(Self.parseTime) ?? runAt,
                      dedupKey: (fields["dedup_key"] as? String) ?? dedupKey,
                      maxAttempts: (fields["max_attempts"] as? Int) ?? maxAttempts)
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

    static func parseTime(_ text: String) throws -> Date {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        throw CLIError("--run-at \(text): expected an ISO 8601 time such as 2025-11-04T10:00:00Z")
    }
}
