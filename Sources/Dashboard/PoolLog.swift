import Foundation

/// One event of the embedded worker pool as the Log screen lists it. The dashboard's own copy
/// of a log record (this module knows no logging library): the runtime converts the pool's
/// recent events into these.
public struct PoolLogLine: Sendable, Equatable {
    public var time: Date
    /// trace … critical, as swift-log names the levels.
    public var level: String
    /// The whole message as the worker logged it (the `/` filter searches it).
    public var message: String
    public var queue: String?
    /// The job the event is about, if any: Enter opens it.
    public var jobID: UUID?
    /// A job event's own fields (docs/OBSERVABILITY.md "Job events"); nil for other events.
    public var jobEvent: JobEvent?

    /// What a finished job's event says beyond its queue and id: its type, how it ended, and
    /// for a failure the error, which is what an operator reads the line for.
    public struct JobEvent: Sendable, Equatable {
        public var type: String
        /// `completed`, `retry` or `dead` (the worker's `outcome` field).
        public var outcome: String
        public var attempt: String?
        public var errorType: String?
        public var error: String?
        public init(type: String, outcome: String, attempt: String? = nil, errorType: String? = nil, error: String? = nil) {
            self.type = type; self.outcome = outcome; self.attempt = attempt; self.errorType = errorType; self.error = error
        }
    }

    public init(time: Date, level: String, message: String, queue: String? = nil, jobID: UUID? = nil,
                jobEvent: JobEvent? = nil) {
        self.time = time; self.level = level; self.message = message; self.queue = queue; self.jobID = jobID
        self.jobEvent = jobEvent
    }

    /// The MESSAGE column: for a job event, how it ended and the error, without the id, queue
    /// and type that have columns of their own (the message repeats them, and at 80 columns
    /// they pushed the error out of sight): "DLQ smtp_error: 550 no such user",
    /// "retry 2 http_503: upstream down", "completed". Any other event: its message.
    public var detail: String {
        guard let event = jobEvent else { return message }
        let failure = [event.errorType, event.error].compactMap { $0 }.joined(separator: ": ")
        let outcome: String = switch event.outcome {
        case "dead": "DLQ"
        case "retry": "retry" + (event.attempt.map { " \($0)" } ?? "")
        default: event.outcome
        }
        return failure.isEmpty ? outcome : outcome + " " + failure
    }
}
