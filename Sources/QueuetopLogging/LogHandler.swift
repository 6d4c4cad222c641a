import Foundation
import Logging

/// Where our handler sends an event: a line writer (stderr, a file) or the dashboard's ring.
public protocol LogDestination: Sendable {
    func write(_ record: LogRecord)
}

/// Writes each event as one rendered line. Lines from many threads never interleave: one
/// write per line, under a lock.
public final class LineWriter: LogDestination {
    private let lock = NSLock()
    private let handle: FileHandle
    public let format: LogFormat

    public init(_ handle: FileHandle, format: LogFormat) {
        self.handle = handle
        self.format = format
    }

    public func write(_ record: LogRecord) {
        let line = format.render(record) + "\n"
        lock.withLock { handle.write(Data(line.utf8)) }
    }
}

/// queuetop's swift-log `LogHandler`: filters by level, merges the logger's and the event's
/// metadata and hands one `LogRecord` to each destination.
public struct QueuetopLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let destinations: [any LogDestination]

    public init(level: Logger.Level, destinations: [any LogDestination]) {
        self.logLevel = level
        self.destinations = destinations
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        guard !destinations.isEmpty else { return }
        let merged = metadata.map { self.metadata.merging($0) { _, event in event } } ?? self.metadata
        let record = LogRecord(time: Date(), level: level, message: message.description, metadata: merged)
        for destination in destinations { destination.write(record) }
    }
}

extension Logger {
    /// A logger writing through `QueuetopLogHandler` (no destinations: a logger that drops all).
    public static func queuetop(_ label: String, level: Logger.Level, to destinations: [any LogDestination]) -> Logger {
        Logger(label: label) { _ in QueuetopLogHandler(level: level, destinations: destinations) }
    }

    /// Drops every event: the default of code that is given no logger.
    public static let discarding = Logger(label: "queuetop.discard") { _ in SwiftLogNoOpLogHandler() }
}

/// Hands each event to a closure: for tests and tools that collect events themselves.
public struct LogCallback: LogDestination {
    private let body: @Sendable (LogRecord) -> Void
    public init(_ body: @escaping @Sendable (LogRecord) -> Void) { self.body = body }
    public func write(_ record: LogRecord) { body(record) }
}
