import Foundation
import JobFilter
import Postgres

/// A bulk action on the jobs a filter matches, and the states it applies to (issue 18).
public enum JobBulkAction: String, Sendable, CaseIterable {
    case runNow = "run_now", cancel, requeue, delete, priority

    /// The states a job must be in for the action to touch it.
    public var states: [JobState] {
        switch self {
        case .runNow, .cancel, .priority: [.pending, .scheduled, .retrying]
        case .requeue: [.dead, .cancelled]
        case .delete: [.dead, .cancelled, .completed]
        }
    }

    /// The verb screens and the CLI use ("cancel 12 jobs").
    public var verb: String {
        switch self {
        case .runNow: "run now"
        case .cancel: "cancel"
        case .requeue: "requeue"
        case .delete: "delete"
        case .priority: "change the priority of"
        }
    }

    public var auditAction: String { "jobs." + rawValue }
}

/// What a bulk action would touch, pinned to `asOf`: the confirmation's exact count and sample.
public struct JobBulkPreview: Sendable, Equatable {
    public var action: JobBulkAction
    public var filter: JobFilter
    /// Only these jobs (marked rows), when set; `filter` is then what they were found with.
    public var ids: [UUID]?
    public var asOf: Date
    public var count: Int
    /// Up to five of the jobs, newest first.
    public var sample: [JobSummary]

    public init(action: JobBulkAction, filter: JobFilter, ids: [UUID]? = nil, asOf: Date, count: Int, sample: [JobSummary]) {
        self.action = action; self.filter = filter; self.ids = ids; self.asOf = asOf; self.count = count; self.sample = sample
    }
}

/// Bulk actions by filter: preview (exact count + sample, pinned to the server's now), then
/// server-side batches through `jobs_bulk_apply`, which re-checks every job's state under a row
/// lock and adds each batch to ONE audit row holding the filter text and the count.
///
/// The as-of pin: a job created, claimed, finished or failed after `asOf` is left alone, so
/// jobs that arrive while the action runs are not touched (the same condition as `jobs_bulk_apply` in 25_search.sql).
public struct JobBulkStore: Sendable {
    public let connection: Connection
    public var clock: JobFilterSQL.Clock

    public init(connection: Connection, clock: JobFilterSQL.Clock = .init()) {
        self.connection = connection
        self.clock = clock
    }

    /// The exact number of jobs the action would change, and five of them. Counting reads every
    /// matching row (payload terms included): it runs under `timeout`.
    /// `ids`: only these jobs (the marked rows), at most 100000.
    public func preview(_ action: JobBulkAction, filter: JobFilter, ids: [UUID]? = nil, timeout: Double = 60) throws -> JobBulkPreview {
        if let ids, !(1...100_000).contains(ids.count) {
            throw QueueStoreError.invalidInput("between 1 and 100000 jobs can be marked, got \(ids.count)")
        }
        let search = JobSearchStore(connection: connection, clock: clock)
        return try search.timed(timeout) { conn in
            let asOf: Date = try conn.run("SELECT now()").scalar()
            var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 8)
            q.appendLiteral("SELECT count(*)::int FROM ")
            q.appendInterpolation(qt: "job_queue")
            q.appendLiteral(" j WHERE ")
            appendEligible(action, filter: filter, ids: ids, asOf: asOf, to: &q)
            let count: Int = try conn.run(Query(stringInterpolation: q)).scalar()
            var s = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 8)
            s.appendLiteral("SELECT \(JobSearchStore.columns) FROM ")
            s.appendInterpolation(qt: "job_queue")
            s.appendLiteral(" j WHERE ")
            appendEligible(action, filter: filter, ids: ids, asOf: asOf, to: &s)
            s.appendLiteral(" ORDER BY j.id DESC LIMIT 5")
            let sample = try conn.run(Query(stringInterpolation: s)).map(JobSearchStore.decode)
            return JobBulkPreview(action: action, filter: filter, ids: ids, asOf: asOf, count: count, sample: sample)
        }
    }

    /// Runs the previewed action in batches of `batchSize` (each its own short transaction: a
    /// read that picks the next ids, then `jobs_bulk_apply`), reporting progress after each.
    /// `priority` is the new priority for `.priority`.
    ///
    /// `shouldStop` is asked between batches: when it says yes the action ends there, the jobs
    /// already changed stay changed, and the audit row is closed as "stopped" with that count
    /// (`jobs_bulk_end`); the result says `stopped`. A batch that fails (after retrying
    /// deadlocks) ends the action the same way as "failed" and throws `JobBulkInterrupted`,
    /// which says how many jobs were changed before it.
    public func apply(_ preview: JobBulkPreview, priority: Int? = nil, batchSize: Int = 1000,
                      batchTimeout: Double = 60, shouldStop: () -> Bool = { false },
                      progress: (JobBulkProgress) -> Void = { _ in }) throws -> JobBulkResult {
        guard (1...100_000).contains(batchSize) else {
            throw QueueStoreError.invalidInput("batch size must be between 1 and 100000, got \(batchSize)")
        }
        if preview.action == .priority {
            guard let priority, (-1_000_000...1_000_000).contains(priority) else {
                throw QueueStoreError.invalidInput("priority must be between -1000000 and 1000000")
            }
        }
        let filterJSON = "{\"where\":\(JobStore.jsonString(preview.filter.description)),"
            // The count the operator confirmed, when the caller has it (the dashboard's dialog
            // showed it; its perform step carries only the as-of): `affected` is the truth.
            + (preview.count > 0 ? "\"previewed\":\(preview.count)," : "")
            + (preview.ids.map { "\"marked\":\($0.count)," } ?? "")
            + "\"as_of\":\(JobStore.jsonString(PostgresTimestamp.format(preview.asOf)))"
            + (preview.action == .priority ? ",\"priority\":\(priority!)" : "") + "}"
        let auditID = try cliSafe { try AuditStore(connection: connection).begin(action: preview.action.auditAction, filter: JSONText(filterJSON)) }
        let search = JobSearchStore(connection: connection, clock: clock)
        let started = DispatchTime.now()
        func report(_ done: Int) -> JobBulkProgress {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            return JobBulkProgress(action: preview.action, done: done, total: preview.count, elapsed: elapsed)
        }
        var cursor: UUID?
        var total = 0, batches = 0, transient = 0
        while true {
            if shouldStop() {
                try end(auditID, "stopped", reason: nil, done: total)
                return JobBulkResult(affected: total, batches: batches, auditID: auditID, stopped: true)
            }
            let step: (picked: Int, changed: Int, last: UUID?)
            do {
                step = try search.timed(batchTimeout) { conn in
                    var q = Query.StringInterpolation(literalCapacity: 256, interpolationCount: 8)
                    q.appendLiteral("SELECT j.id FROM ")
                    q.appendInterpolation(qt: "job_queue")
                    q.appendLiteral(" j WHERE ")
                    appendEligible(preview.action, filter: preview.filter, ids: preview.ids, asOf: preview.asOf, to: &q)
                    if let cursor {
                        q.appendLiteral(" AND j.id < ")
                        q.appendInterpolation(cursor)
                        q.appendLiteral("::uuid")
                    }
                    q.appendLiteral(" ORDER BY j.id DESC LIMIT ")
                    q.appendInterpolation(batchSize)
                    let ids: [UUID] = try conn.run(Query(stringInterpolation: q)).map { try $0.decode("id") }
                    guard !ids.isEmpty else { return (0, 0, nil) }
                    let changed: Int = try conn.run("""
                        SELECT \(qt: "jobs_bulk_apply")(\(preview.action.rawValue), \(ids)::uuid[], \(preview.asOf), \(auditID), \(priority)::int)
                        """).scalar()
                    return (ids.count, changed, ids.last)
                }
                transient = 0
            } catch let error as QueueStoreError where transient < 5 && Self.isTransient(error) {
                transient += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(transient))
                continue
            } catch {
                // Best effort: with the link gone the row cannot be closed, but its count
                // (added by each committed batch) is still the truth.
                try? end(auditID, "failed", reason: String(describing: error), done: total)
                throw JobBulkInterrupted(action: preview.action, done: total, total: preview.count, auditID: auditID, underlying: error)
            }
            guard step.picked > 0 else { break }
            batches += 1
            total += step.changed
            cursor = step.last
            progress(report(total))
        }
        return JobBulkResult(affected: total, batches: batches, auditID: auditID, stopped: false)
    }

    /// Closes the audit row of an action that ended early (`jobs_bulk_end`).
    private func end(_ auditID: Int64, _ outcome: String, reason: String?, done: Int) throws {
        _ = try cliSafe {
            try connection.run("SELECT \(qt: "jobs_bulk_end")(\(auditID), \(outcome), \(reason))").scalar() as Int64
        }
    }

    /// The filter, the action's states, and the as-of pin, as one condition over `j`.
    private func appendEligible(_ action: JobBulkAction, filter: JobFilter, ids: [UUID]?, asOf: Date,
                                to q: inout Query.StringInterpolation) {
        if let ids {
            // Marked rows: exactly these jobs, whatever the filter on screen says now.
            q.appendLiteral("j.id = ANY(")
            q.appendInterpolation(ids)
            q.appendLiteral("::uuid[])")
        } else {
            JobFilterSQL.appendCondition(filter.terms, clock: clock, to: &q)
        }
        q.appendLiteral(" AND (")
        q.appendLiteral(action.states.map(JobFilterSQL.stateCondition).joined(separator: " OR "))
        q.appendLiteral(") AND greatest(j.created_at, j.started_at, j.completed_at, j.last_error_at) <= ")
        q.appendInterpolation(asOf)
        q.appendLiteral("::timestamptz")
    }

    private func cliSafe<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PostgresError where !error.isConnectionProblem && !error.meansSchemaMoved {
            throw QueueStoreError.from(error)
        }
    }

    /// A deadlock or serialization failure rolled the whole batch back: running it again is safe.
    static func isTransient(_ error: QueueStoreError) -> Bool {
        let text = String(describing: error)
        return text.contains("deadlock") || text.contains("could not serialize")
    }
}

/// What a bulk action did: jobs changed, batches run, its audit row, and whether the operator
/// stopped it before the end.
public struct JobBulkResult: Sendable, Equatable {
    public let affected: Int
    public let batches: Int
    public let auditID: Int64
    public let stopped: Bool
    public init(affected: Int, batches: Int, auditID: Int64, stopped: Bool) {
        self.affected = affected; self.batches = batches; self.auditID = auditID; self.stopped = stopped
    }
}

/// A batch failed midway: `done` jobs were changed before it (they stay changed) and the audit
/// row `auditID` says so.
public struct JobBulkInterrupted: Error, CustomStringConvertible {
    public let action: JobBulkAction
    public let done: Int
    public let total: Int
    public let auditID: Int64
    public let underlying: any Error

    public var description: String {
        "\(action.verb) stopped by an error after \(JobBulkProgress.grouped(done)) of \(JobBulkProgress.grouped(total)) jobs"
            + " (they stay done; audit #\(auditID)): \(underlying)"
    }
}

/// How far a running bulk action is: the progress line of the dashboard and the CLI
/// ("cancelling 41,000 / 100,000 · 8.2k/s · 5s").
public struct JobBulkProgress: Sendable, Equatable {
    public var action: JobBulkAction
    /// Jobs changed so far.
    public var done: Int
    /// Jobs the preview counted.
    public var total: Int
    /// Seconds since the first batch started.
    public var elapsed: Double

    public init(action: JobBulkAction, done: Int, total: Int, elapsed: Double) {
        self.action = action; self.done = done; self.total = total; self.elapsed = max(0, elapsed)
    }

    /// Jobs per second so far; nil before any time has passed.
    public var rate: Double? { elapsed > 0 ? Double(done) / elapsed : nil }

    /// The line, with `dot` between its parts (" · ", or " - " on an ASCII terminal).
    /// `elapsed` overrides the time (the dashboard counts on between reports).
    public func line(dot: String = " · ", elapsed: Double? = nil) -> String {
        let seconds = max(self.elapsed, elapsed ?? 0)
        var parts = ["\(action.progressVerb) \(Self.grouped(done)) / \(Self.grouped(total))"]
        if let rate { parts.append("\(Self.compact(rate))/s") }
        parts.append(Self.duration(seconds))
        return parts.joined(separator: dot)
    }

    /// 41000 -> "41,000".
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// 8200 -> "8.2k", 950 -> "950", 1.2e6 -> "1.2M".
    static func compact(_ x: Double) -> String {
        switch x {
        case ..<1_000: return String(Int(x.rounded()))
        case ..<1_000_000: return String(format: "%.1fk", x / 1_000)
        default: return String(format: "%.1fM", x / 1_000_000)
        }
    }

    /// 5 -> "5s", 95 -> "1m35s".
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s < 60 ? "\(s)s" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}

extension JobBulkAction {
    /// "cancelling": the progress line's verb.
    public var progressVerb: String {
        switch self {
        case .runNow: "making due"
        case .cancel: "cancelling"
        case .requeue: "requeueing"
        case .delete: "deleting"
        case .priority: "reprioritising"
        }
    }
}
