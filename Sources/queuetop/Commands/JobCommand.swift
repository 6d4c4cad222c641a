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

    /// A job id argument: a UUID, or a clear error that names the value.
    struct JobID: ParsableArguments {
        @Argument(help: "The job id (a UUID, as enqueue printed it).") var id: String

        func uuid() throws -> UUID {
            guard let uuid = JobIDText.parse(id) else { throw ValidationError(JobIDText.notAJobID(id)) }
            return uuid
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything about one job.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var job: JobID
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let id = try job.uuid()
            let conn = try connection.connect()
            defer { conn.close() }
            let store = JobStore(connection: conn)
            guard let found = try cliErrors({ try store.inspect(id: id) }) else {
                throw CLIError(JobIDText.notFound(id))
            }
            let attempts = try cliErrors { try DLQStore(connection: conn).attempts(jobID: id) }
            print(json ? JobReport.json(found, attempts: attempts) : JobReport.text(found, attempts: attempts))
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a pending job (audited). A running job cannot be recalled: let it finish or fail.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var job: JobID

        func run() throws {
            let id = try job.uuid()
            let conn = try connection.connectToWrite()
            defer { conn.close() }
            try cliErrors { try JobStore(connection: conn).cancel(id: id) }
            print("cancelled \(id.uuidString.lowercased())")
        }
    }
}

/// How `job show` prints a job: the fields that are set, then the JSON documents, laid out by
/// `BoundedJSON` (the dashboard's renderer): at most 64 KiB each, deeper than 64 levels compact.
enum JobReport {
    typealias Attempt = (attempt: Int, errorType: String?, message: String?, worker: String?, failedAt: Date)

    static func text(_ j: JobInspection, attempts: [Attempt]) -> String {
        var status = j.status
        if let reason = j.cancelReason { status += " (\(reason))" }
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
    static func json(_ j: JobInspection, attempts: [Attempt]) -> String {
        var raw: [String: String] = [:]
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        func embedded(_ name: String, _ text: String?) -> Any {
            guard let text else { return NSNull() }
            let placeholder = "qtraw\(tag)\(name)"
            raw["\"\(placeholder)\""] = rawJSON(text)
            return placeholder
        }
        let fields = fields(j, attempts: attempts, payload: embedded("payload", j.payloadJSON),
                            result: embedded("result", j.resultJSON), details: embedded("details", j.errorDetailsJSON))
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
