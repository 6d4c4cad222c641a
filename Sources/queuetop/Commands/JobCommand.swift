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
            discussion: """
                A pending job is cancelled at once. A running job's worker is told at once and stops \
                its handler (a command gets SIGTERM, then SIGKILL after 2 s; an HTTP request is \
                aborted; a SQL statement is cancelled); the job then ends cancelled (operator) with \
                its partial output in its error details, and is never run again, even if its worker \
                died. See docs/WORKERS.md, "Cancelling a running job".
                """)
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
            ("priority", String(j.priority)), ("attempts", "\(j.attemptCount)/\(j.maxAttempts)"),
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
        var raw: [String: String] = [:]
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        func embedded(_ name: String, _ text: String?) -> Any {
            guard let text else { return NSNull() }
            let placeholder = "qtraw\(tag)\(name)"
            raw["\"\(placeholder)\""] = rawJSON(text)
            return placeholder
        }
        var fields = fields(j, attempts: attempts, payload: embedded("payload", j.payloadJSON),
                            result: embedded("result", j.resultJSON), details: embedded("details", j.errorDetailsJSON))
        fields["cancel_requested_at"] = j.cancelRequestedAt.map(isoTime) ?? NSNull()
        fields["backend"] = j.status == "processing" ? j.handlerBackendPID.map { pid -> Any in
            guard let backend else { return ["pid": pid, "exists": false] as [String: Any] }
            guard backend.visible else { return ["pid": pid, "visible": false, "role": backend.role ?? NSNull()] as [String: Any] }
            return ["pid": pid, "visible": true, "role": backend.role ?? NSNull(), "state": backend.state ?? NSNull(),
                    "wait_event_type": backend.waitEventType ?? NSNull(), "wait_event": backend.waitEvent ?? NSNull(),
                    "query_start": backend.queryStart.map(isoTime) ?? NSNull(), "waiting_for": backend.waitingFor,
                    "blocked_by": backend.blockedBy] as [String: Any]
        } ?? NSNull() : NSNull()
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "null"
        }
        var text = String(decoding: data, as: UTF8.self)
        for (placeholder, value) in raw {
            if let range = text.range(of: placeholder) { text.replaceSubrange(range, with: value) }
        }
        // Like printJSON: C1, DEL, bidi and zero-width characters as \u escapes (SafeText.json).
        return SafeText.json(text)
    }

    /// Stored jsonb text as it goes into `--json`: itself, or a marker when it is too large.
    static func rawJSON(_ text: String) -> String {
        let bytes = text.utf8.count
        return bytes <= jsonDocumentCap ? text : #"{"too_large": true, "bytes": \#(bytes)}"#
    }

    private static func fields(_ j: JobInspection, attempts: [Attempt], payload: Any, result: Any, details: Any) -> [String: Any] {
        func time(_ date: Date?) -> Any { date.map(isoTime) ?? NSNull() }
        return [
            "id": j.id.uuidString.lowercased(), "queue": j.queue, "type": j.jobType, "status": j.status,
            "cancel_reason": j.cancelReason ?? NSNull(), "priority": j.priority, "attempt_count": j.attemptCount,
            "max_attempts": j.maxAttempts, "tenant": j.tenant ?? NSNull(), "dedup_key": j.dedupKey ?? NSNull(),
            "locked_by": j.lockedBy ?? NSNull(), "created_at": isoTime(j.createdAt), "run_at": isoTime(j.runAt),
            "started_at": time(j.startedAt), "completed_at": time(j.completedAt), "expires_at": time(j.expiresAt),
            "next_retry_at": time(j.nextRetryAt), "processing_time_ms": j.processingMs ?? NSNull(),
            "error_type": j.errorType ?? NSNull(), "error_message": j.errorMessage ?? NSNull(),
            "payload": payload, "result": result, "error_details": details,
            "attempts": attempts.map { ["attempt": $0.attempt, "error_type": $0.errorType ?? NSNull(),
                                        "message": $0.message ?? NSNull(), "worker": $0.worker ?? NSNull(),
                                        "failed_at": isoTime($0.failedAt)] as [String: Any] },
        ]
    }
}
