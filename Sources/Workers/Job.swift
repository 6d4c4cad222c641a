import Foundation
import Postgres
import QueueStore
import Synchronization

/// A job this worker has claimed, as `claim_jobs` returned it.
public struct WorkerJob: Sendable, Equatable {
    /// The id as claimed; `id.text` is what handlers pass on (HTTP body, QUEUETOP_JOB_ID).
    public var id: JobID
    public var queue: String
    public var type: String
    /// The payload as JSON text (jsonb rendered by Postgres).
    public var payload: String
    /// Failed attempts so far; the attempt being run is `attemptCount + 1` (docs/DESIGN.md).
    public var attemptCount: Int
    public var maxAttempts: Int
    public var priority: Int
    /// The producer's tenant, nil when the job has none; only logged (a job event field).
    public var tenant: String?

    public init(id: JobID, queue: String, type: String, payload: String,
                attemptCount: Int = 0, maxAttempts: Int = 5, priority: Int = 0, tenant: String? = nil) {
        self.id = id
        self.queue = queue
        self.type = type
        self.payload = payload
        self.attemptCount = attemptCount
        self.maxAttempts = maxAttempts
        self.priority = priority
        self.tenant = tenant
    }

    /// The attempt number handed to handlers (1 for the first run).
    public var attempt: Int { attemptCount + 1 }
}

/// Why a job did not complete; becomes one element of a `fail_jobs` call.
public struct HandlerFailure: Sendable, Equatable {
    public var message: String
    public var errorType: String
    /// JSON object text stored in the job's error history (`error_details`).
    public var detailsJSON: String
    public var retryable: Bool
    /// The earliest retry, in seconds from now (Retry-After); nil lets the engine's backoff decide.
    public var retryAfterSeconds: Int?

    public init(message: String, errorType: String, details: [String: any Sendable] = [:],
                retryable: Bool, retryAfterSeconds: Int? = nil) {
        self.message = message
        self.errorType = errorType
        self.detailsJSON = JSONSupport.object(details)
        self.retryable = retryable
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A payload the handler cannot use: straight to the DLQ, never retried.
    public static func invalidPayload(_ reason: String) -> HandlerFailure {
        HandlerFailure(message: "invalid payload: \(reason)", errorType: "invalid_payload", retryable: false)
    }
}

/// What a handler decided about one job.
public enum JobOutcome: Sendable, Equatable {
    case completed
    /// Completed with a result (JSON text), stored on the job for `unique_for_s` cache hits
    /// (docs/QUEUE_ENGINE.md). Results over 64 KiB are not stored; the job still completes.
    case completedWithResult(String)
    case failed(HandlerFailure)

    /// Completed, keeping what the handler produced as the job's result (nil: nothing to keep).
    public static func completed(output: String?) -> JobOutcome {
        JobResult.json(fromOutput: output).map(JobOutcome.completedWithResult) ?? .completed
    }
}

/// How a handler's output (an HTTP body, a command's stdout) becomes a job result: JSON stays
/// JSON; any other non-blank text is kept as a JSON string, so nothing a handler said is lost.
public enum JobResult {
    /// The most a handler result may be; complete_jobs refuses to store more (0010).
    public static let limitBytes = 65_536

    public static func json(fromOutput output: String?) -> String? {
        guard let output, !output.allSatisfy(\.isWhitespace) else { return nil }
        if let data = output.data(using: .utf8),
           (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil {
            return output
        }
        return JSONText.string(output).raw
    }
}

/// Set when the pool gives up on a running job (shutdown grace over); handlers that run
/// something long (a child process, an HTTP request) poll it and stop early.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
    public func cancel() { flag.store(true, ordering: .relaxed) }
}

/// Everything a handler gets for one run.
public struct JobContext: Sendable {
    public var job: WorkerJob
    public var cancellation: CancellationFlag

    public init(job: WorkerJob, cancellation: CancellationFlag = CancellationFlag()) {
        self.job = job
        self.cancellation = cancellation
    }
}

/// Small JSON helpers: payloads and error details travel as JSON text, so values never need to be
/// `Sendable` dictionaries of `Any` across threads.
enum JSONSupport {
    static func object(_ fields: [String: any Sendable]) -> String {
        let plain = fields.mapValues { $0 as Any }
        guard JSONSerialization.isValidJSONObject(plain),
              let data = try? JSONSerialization.data(withJSONObject: plain, options: [.sortedKeys])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses a JSON object; nil when the text is not one.
    static func parseObject(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8),
              let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else { return nil }
        return value as? [String: Any]
    }

    /// Keeps at most `limit` bytes of `text`, cut on a character boundary, marking the cut.
    static func snippet(_ text: String, limit: Int = 2048, keepTail: Bool = false) -> String {
        let utf8 = text.utf8
        guard utf8.count > limit else { return text }
        if keepTail {
            let start = utf8.index(utf8.endIndex, offsetBy: -limit)
            return "…" + String(decoding: text.utf8[start...], as: UTF8.self)
        }
        let end = utf8.index(utf8.startIndex, offsetBy: limit)
        return String(decoding: text.utf8[..<end], as: UTF8.self) + "…"
    }
}
