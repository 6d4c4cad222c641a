import Foundation
import Postgres

/// Where triage stands on an error group (docs/TRIAGE.md).
public enum ErrorGroupState: String, Sendable, Equatable, CaseIterable {
    /// Nobody resolved or snoozed it (or a snooze ran out).
    case open
    /// Hidden from "needs attention" until a time, or until the group's count passes a number.
    case snoozed
    /// Someone said it is fixed; the next failure makes it `regressed`.
    case resolved
    /// It was resolved and failed again; the alert hooks were told once.
    case regressed
}

/// A group's lifecycle as the calling database role sees it: the shared state, and this role's
/// own acknowledgement ("seen"), which decides whether the group is new to it.
public struct ErrorGroupLifecycle: Sendable, Equatable {
    public var state: ErrorGroupState
    public var snoozedUntil: Date?
    public var snoozeAbove: Int?
    public var regressedAt: Date?
    /// When this database role last acknowledged the group; nil = never.
    public var ackedAt: Date?
    /// Failed since this role last acknowledged it (or never acknowledged).
    public var isNew: Bool

    public init(state: ErrorGroupState = .open, snoozedUntil: Date? = nil, snoozeAbove: Int? = nil,
                regressedAt: Date? = nil, ackedAt: Date? = nil, isNew: Bool = false) {
        self.state = state; self.snoozedUntil = snoozedUntil; self.snoozeAbove = snoozeAbove
        self.regressedAt = regressedAt; self.ackedAt = ackedAt; self.isNew = isNew
    }

    static func decode(_ row: Row) throws -> ErrorGroupLifecycle {
        let text: String = try row.decode("state")
        guard let state = ErrorGroupState(rawValue: text) else {
            throw QueueStoreError.database("unknown error group state \(text)")
        }
        return ErrorGroupLifecycle(state: state, snoozedUntil: try row.decode("snoozed_until"),
                                   snoozeAbove: try row.decode("snooze_above"), regressedAt: try row.decode("regressed_at"),
                                   ackedAt: try row.decode("acked_at"), isNew: try row.decode("is_new"))
    }
}

/// How an error group is named on the command line and in messages: `QUEUE/FINGERPRINT`. The
/// fingerprint is the last `/`-separated part, so a queue name may itself hold a slash.
public struct ErrorGroupRef: Sendable, Equatable, CustomStringConvertible {
    public let queue: String
    public let fingerprint: String

    public init(queue: String, fingerprint: String) { self.queue = queue; self.fingerprint = fingerprint }

    public init(parsing text: String) throws {
        guard let slash = text.lastIndex(of: "/"), slash != text.startIndex else {
            throw QueueStoreError.invalidInput("an error group is QUEUE/FINGERPRINT (as `queuetop dlq groups` lists it), got \(SafeText.oneLine(text))")
        }
        let fingerprint = String(text[text.index(after: slash)...]).lowercased()
        guard fingerprint.count == 12, fingerprint.allSatisfy(\.isHexDigit) else {
            throw QueueStoreError.invalidInput("a fingerprint is 12 hex digits, got \(SafeText.oneLine(fingerprint))")
        }
        self.init(queue: String(text[..<slash]), fingerprint: fingerprint)
    }

    public var description: String { "\(queue)/\(fingerprint)" }
}

/// The lifecycle actions (each audited in SQL) and undo for requeues.
public struct TriageStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// Marks the group seen by the calling database role.
    public func acknowledge(_ group: ErrorGroupRef) throws {
        try connection.run("SELECT 1 FROM \(qt: "ack_error_group")(\(group.queue), \(group.fingerprint))")
    }

    /// Snoozes the group until `until`, or until its DLQ count passes `above` (at least one).
    public func snooze(_ group: ErrorGroupRef, until: Date?, above: Int?) throws {
        try connection.run("SELECT 1 FROM \(qt: "snooze_error_group")(\(group.queue), \(group.fingerprint), \(until), \(above))")
    }

    public func resolve(_ group: ErrorGroupRef) throws {
        try connection.run("SELECT 1 FROM \(qt: "resolve_error_group")(\(group.queue), \(group.fingerprint))")
    }

    public func reopen(_ group: ErrorGroupRef) throws {
        try connection.run("SELECT 1 FROM \(qt: "reopen_error_group")(\(group.queue), \(group.fingerprint))")
    }

    /// Undoes the requeue recorded in audit row `auditID`: its jobs that have not started since go
    /// back to the DLQ as they were. Returns how many did. Refused for another action, or twice.
    public func undoRequeue(auditID: Int64) throws -> Int {
        try connection.run("SELECT \(qt: "undo_requeue")(\(auditID))").scalar()
    }

    /// How many of a requeue's jobs an undo would return now (pending, not started since).
    public func undoableCount(auditID: Int64) throws -> Int {
        try connection.run("""
            SELECT count(*)::int FROM \(qt: "requeue_undo") u JOIN \(qt: "job_queue") j ON j.id = u.job_id
            WHERE u.audit_id = \(auditID) AND j.status = 'pending' AND j.started_at IS NOT DISTINCT FROM u.started_at
            """).scalar()
    }

    /// Fingerprints the rows failed before 0021, batch by batch, each batch its own transaction
    /// (so an upgrade of a big table holds no long lock), resuming where an interrupted run
    /// stopped. `queuetop migrate` runs it; once done it returns at once. Returns the batches run.
    @discardableResult
    public func backfillFingerprints(batchSize: Int = 5000, progress: (Int) -> Void = { _ in }) throws -> Int {
        var batches = 0
        while try connection.withPatience(.batch, {
            try connection.run("SELECT \(qt: "backfill_fingerprints")(\(batchSize))").scalar(Bool.self)
        }) {
            batches += 1
            progress(batches)
        }
        return batches
    }
}
