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
    /// read that picks the next ids, then `jobs_bulk_apply`), reporting the running total.
    /// `priority` is the new priority for `.priority`. Returns how many jobs changed.
    public func apply(_ preview: JobBulkPreview, priority: Int? = nil, batchSize: Int = 1000,
                      batchTimeout: Double = 60, progress: (Int) -> Void = { _ in }) throws -> BulkResult {
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
        var cursor: UUID?
        var total = 0, batches = 0, transient = 0
        while true {
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
            }
            guard step.picked > 0 else { break }
            batches += 1
            total += step.changed
            cursor = step.last
            progress(total)
        }
        return BulkResult(affected: total, batches: batches, auditID: auditID)
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
