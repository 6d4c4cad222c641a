import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop job show|cancel ID`: one job, whatever its status.
struct JobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Show one job (status, timings, tenant, expiry, result, error, attempts) or cancel it.",
        subcommands: [Show.self, Cancel.self])

    /// A job id argument: the whole UUID, or any unique part of it (the short id a screen shows,
    /// another suffix or a prefix, at least 4 hex digits, dashes optional).
    struct JobID: ParsableArguments {
        @Argument(help: "The job id: the UUID, or any unique part of it (such as the short id the dashboard shows).")
        var id: String

        /// The job this names; "no job matches" / "ambiguous: N jobs match" otherwise.
        func resolve(_ store: JobStore) throws -> UUID {
            try cliErrors { try store.resolve(id) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything about one job.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var job: JobID
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let conn = try connection.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            let id = try job.resolve(store)
            guard let found = try cliErrors({ try store.inspect(id: id) }) else {
                throw CLIError(JobIDText.notFound(id))
            }
            let attempts = try cliErrors { try DLQStore(connection: conn).attempts(jobID: id) }
            // A running sql-handler job: what its backend is doing, as far as this role may see.
            let backend = try found.status == "processing" ? found.handlerBackendPID.flatMap { pid in
                try cliErrors { try store.backend(pid: pid) }
            } : nil
            print(json ? JobReport.json(found, attempts: attempts, backend: backend)
                       : JobReport.text(found, attempts: attempts, backend: backend))
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a pending or running job (audited).",
            discussion: HelpText.reflow("""
                A pending job is cancelled at once. A running job's worker is told at once and stops \
                its handler (a command gets SIGTERM, then SIGKILL after 2 s; an HTTP request is \
                aborted; a SQL statement is cancelled); the job then ends cancelled (operator) with \
                its partial output in its error details, and is never run again, even if its worker \
                died. See docs/WORKERS.md, "Cancelling a running job".
                """))
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var job: JobID

        func run() throws {
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            let id = try job.resolve(store)
            switch try cliErrors({ try store.cancel(id: id) }) {
            case .cancelled: print("cancelled \(id.uuidString.lowercased())")
            case .cancelling: print("cancelling \(id.uuidString.lowercased()): its worker is stopping the handler")
            }
        }
    }
}

/// How `job show` prints a job: the fields that are set, then the JSON documents, laid out by
/// `BoundedJSON` (the dashboard's renderer): at most 64 KiB each, deeper than 64 levels compact.
enum JobReport {
    typealias Attempt = (attempt: Int, errorType: String?, message: String?, worker: String?, failedAt: Date)

    static func text(_ j: JobInspection, attempts: [Attempt], backend: JobBackend? = nil) -> String {
        var status = j.status
        if let reason = j.cancelReason { status += " (\(reason))" }
        if j.status == "processing", let asked = j.cancelRequestedAt { status += " (cancelling since \(isoTime(asked)))" }
        if j.status == "pending", let retry = j.nextRetryAt { status += " (retry at \(isoTime(retry)))" }
        let fields: [(String, String?)] = [
            ("id", j.id.uuidString.lowercased()), ("queue", j.queue), ("type", j.jobType), ("status", status),
            ("priority", String(j.priority)), ("attempts", AttemptsText.of(j.attemptCount, max: j.maxAttempts)),
            ("tenant", j.tenant), ("dedup key", j.dedupKey), ("worker", j.lockedBy),
            ("created", isoTime(j.createdAt)), ("run at", isoTime(j.runAt)), ("started", j.startedAt.map(isoTime)),
            ("finished", j.completedAt.map(isoTime)), ("expires", j.expiresAt.map(isoTime)),
            ("took", j.processingMs.map { "\($0) ms" }),
            ("error", j.errorType.map { "\($0): \(j.errorMessage ?? "")" }),
        ]
        var lines = fields.compactMap { name, value in value.map { name.padding(toLength: 10, withPad: " ", startingAt: 0) + SafeText.oneLine($0) } }
        if j.status == "processing", let pid = j.handlerBackendPID {
            lines += JobBackendText.lines(pid: pid, backend).map { "backend   " + SafeText.oneLine($0) }
        }
        func document(_ name: String, _ json: String) -> [String] {
            ["", name + ":"] + BoundedJSON.pretty(json, limits: .cli).lines
        }
        lines += document("payload", j.payloadJSON)
        if let result = j.resultJSON { lines += document("result", result) }
        if let details = j.errorDetailsJSON { lines += document("error details", details) }
        if !attempts.isEmpty {
            lines += ["", "failed attempts:"]
            lines += attempts.map { "  #\($0.attempt)  \(isoTime($0.failedAt))  \(safe: $0.errorType ?? "-")  \(safe: $0.message ?? "")  (\(safe: $0.worker ?? "?"))" }
        }
        return lines.joined(separator: "\n")
    }

    /// Documents larger than this are printed as `{"too_large": true, "bytes": N}`.
    static let jsonDocumentCap = 8 * 1024 * 1024

    /// The job as one JSON object with sorted keys. Payload, result and error details are the
    /// stored jsonb text itself, embedded as it is: re-parsing them (JSONSerialization has a
    /// depth limit) turned valid deep JSON into `null`.
    static func json(_ j: JobInspection, attempts: [Attempt], backend: JobBackend? = nil) -> String {
        JSONOutput.render(JobJSON(j, attempts: attempts, backend: backend))
    }

    /// Stored jsonb text as it goes into `--json`: itself, or a marker when it is too large.
    static func rawJSON(_ text: String) -> String {
        let bytes = text.utf8.count
        return bytes <= jsonDocumentCap ? text : #"{"too_large": true, "bytes": \#(bytes)}"#
    }

    /// `job show --json`; the property names are the JSON keys (JSONOutput.swift). Payload,
    /// result and error details are the stored jsonb text (or the too-large marker).
    struct JobJSON: Encodable {
        struct AttemptJSON: Encodable {
            let attempt: Int
            @OrNull var error_type: String?
            @OrNull var message: String?
            @OrNull var worker: String?
            let failed_at: String
        }
        let id: String
        let queue: String
        let type: String
        let status: String
        @OrNull var cancel_reason: String?
        let priority: Int
        let attempt_count: Int
        let max_attempts: Int
        @OrNull var tenant: String?
        @OrNull var dedup_key: String?
        @OrNull var locked_by: String?
        let created_at: String
        let run_at: String
        @OrNull var started_at: String?
        @OrNull var completed_at: String?
        @OrNull var expires_at: String?
        @OrNull var next_retry_at: String?
        @OrNull var processing_time_ms: Int?
        @OrNull var error_type: String?
        @OrNull var error_message: String?
        let payload: EmbeddedJSON
        @OrNull var result: EmbeddedJSON?
        @OrNull var error_details: EmbeddedJSON?
        let attempts: [AttemptJSON]
        @OrNull var cancel_requested_at: String?
        /// A processing job's sql-handler backend (JobBackend), else null.
        @OrNull var backend: BackendJSON?

        /// `{"pid", "exists": false}` when the backend is gone; `{"pid", "visible": false, "role"}`
        /// when this role may not see it; else everything pg_stat_activity and pg_locks say.
        struct BackendJSON: Encodable {
            let pid: Int
            let backend: JobBackend?

            private enum CodingKeys: String, CodingKey {
                case pid, exists, visible, role, state, wait_event_type, wait_event, query_start, waiting_for, blocked_by
            }

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(pid, forKey: .pid)
                guard let backend else { try c.encode(false, forKey: .exists); return }
                try c.encode(backend.visible, forKey: .visible)
                try c.encode(OrNull(wrappedValue: backend.role), forKey: .role)
                guard backend.visible else { return }
                try c.encode(OrNull(wrappedValue: backend.state), forKey: .state)
                try c.encode(OrNull(wrappedValue: backend.waitEventType), forKey: .wait_event_type)
                try c.encode(OrNull(wrappedValue: backend.waitEvent), forKey: .wait_event)
                try c.encode(OrNull(wrappedValue: backend.queryStart.map(isoTime)), forKey: .query_start)
                try c.encode(backend.waitingFor, forKey: .waiting_for)
                try c.encode(backend.blockedBy, forKey: .blocked_by)
            }
        }

        init(_ j: JobInspection, attempts: [Attempt], backend: JobBackend? = nil) {
            id = j.id.uuidString.lowercased(); queue = j.queue; type = j.jobType; status = j.status
            cancel_reason = j.cancelReason; priority = j.priority; attempt_count = j.attemptCount; max_attempts = j.maxAttempts
            tenant = j.tenant; dedup_key = j.dedupKey; locked_by = j.lockedBy
            created_at = isoTime(j.createdAt); run_at = isoTime(j.runAt); started_at = j.startedAt.map(isoTime)
            completed_at = j.completedAt.map(isoTime); expires_at = j.expiresAt.map(isoTime); next_retry_at = j.nextRetryAt.map(isoTime)
            processing_time_ms = j.processingMs; error_type = j.errorType; error_message = j.errorMessage
            payload = EmbeddedJSON(JobReport.rawJSON(j.payloadJSON))
            result = j.resultJSON.map { EmbeddedJSON(JobReport.rawJSON($0)) }
            error_details = j.errorDetailsJSON.map { EmbeddedJSON(JobReport.rawJSON($0)) }
            self.attempts = attempts.map {
                AttemptJSON(attempt: $0.attempt, error_type: $0.errorType, message: $0.message, worker: $0.worker,
                            failed_at: isoTime($0.failedAt))
            }
            cancel_requested_at = j.cancelRequestedAt.map(isoTime)
            self.backend = j.status == "processing" ? j.handlerBackendPID.map { BackendJSON(pid: $0, backend: backend) } : nil
        }
    }
}
