import Foundation

/// One event of the embedded worker pool as the Log screen lists it. The dashboard's own copy
/// of a log record (this module knows no logging library): the runtime converts the pool's
/// recent events into these.
public struct PoolLogLine: Sendable, Equatable {
    public var time: Date
    /// trace … critical, as swift-log names the levels.
    public var level: String
    public var message: String
    public var queue: String?
    /// The job the event is about, if any: Enter opens it.
    public var jobID: UUID?
    public init(time: Date, level: String, message: String, queue: String? = nil, jobID: UUID? = nil) {
        self.time = time; self.level = level; self.message = message; self.queue = queue; self.jobID = jobID
    }
}
