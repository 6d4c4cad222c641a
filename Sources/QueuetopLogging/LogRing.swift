import Foundation
import Synchronization

/// The most recent events, at most `capacity` (the oldest dropped first): what the dashboard's
/// log screen shows of its embedded pool. Bounded, so a long session's log cannot grow memory.
public final class LogRing: LogDestination {
    public let capacity: Int
    private struct Storage { var records: [LogRecord] = []; var start = 0; var total = 0 }
    private let storage = Mutex(Storage())

    public init(capacity: Int = 1_000) { self.capacity = max(1, capacity) }

    public func write(_ record: LogRecord) {
        storage.withLock { s in
            if s.records.count < capacity {
                s.records.append(record)
            } else {
                s.records[s.start] = record
                s.start = (s.start + 1) % capacity
            }
            s.total += 1
        }
    }

    /// Oldest first.
    public func records() -> [LogRecord] {
        storage.withLock { s in Array(s.records[s.start...] + s.records[..<s.start]) }
    }

    /// Events written so far, including those dropped: lets a reader tell whether anything changed.
    public var total: Int { storage.withLock { $0.total } }
}
