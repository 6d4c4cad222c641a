import Foundation
import Logging

/// One log event as our handler sees it, before rendering: what the text, logfmt and JSON
/// formats print and what the dashboard's log screen keeps. Values are flattened to strings
/// (swift-log metadata may nest; nobody reading a log line needs the nesting) and fields are
/// sorted by key, so the same event always renders the same line.
public struct LogRecord: Sendable, Equatable {
    public var time: Date
    public var level: Logger.Level
    public var message: String
    public var fields: [(key: String, value: String)]

    public init(time: Date, level: Logger.Level, message: String, fields: [(key: String, value: String)] = []) {
        self.time = time
        self.level = level
        self.message = message
        self.fields = fields
    }

    public init(time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) {
        self.init(time: time, level: level, message: message,
                  fields: metadata.sorted { $0.key < $1.key }.map { ($0.key, Self.flatten($0.value)) })
    }

    /// The value of field `key`, if the event has it.
    public func field(_ key: String) -> String? { fields.first { $0.key == key }?.value }

    public static func == (a: LogRecord, b: LogRecord) -> Bool {
        a.time == b.time && a.level == b.level && a.message == b.message
            && a.fields.map(\.key) == b.fields.map(\.key) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    private static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case let .string(s): return s
        case let .stringConvertible(c): return c.description
        case let .array(items): return "[" + items.map(flatten).joined(separator: ",") + "]"
        case let .dictionary(d): return "{" + d.sorted { $0.key < $1.key }.map { "\($0.key)=\(flatten($0.value))" }.joined(separator: ",") + "}"
        }
    }
}

/// The keys of a job event's metadata (docs/OBSERVABILITY.md lists them). Constants, so the
/// pool, the dashboard's filter and the tests spell them one way.
public enum LogField {
    public static let jobID = "job_id"
    public static let queue = "queue"
    public static let type = "type"
    public static let attempt = "attempt"
    public static let tenant = "tenant"
    public static let durationMs = "duration_ms"
    public static let outcome = "outcome"
    public static let errorType = "error_type"
    public static let error = "error"
}
