import Foundation
import Postgres

/// One thing that happened, as the incident timeline lists it (`timeline()`, 85_timeline.sql).
public struct TimelineEntry: Sendable, Equatable {
    /// Where the entry comes from: what opens it and which glyph marks it on a chart.
    public enum Source: String, Sendable, Equatable {
        /// A deploy (or other) mark: `queuetop mark`, or `mark_event()` from an app or CI.
        case mark
        /// An alert started firing or cleared.
        case alert
        /// An operator action, a schedule change, a worker declared dead… (audit_log).
        case audit
    }

    public let at: Date
    public let source: Source
    /// The mark's kind (`deploy`), `alert.firing` / `alert.cleared`, or the audit action (`dlq.requeue`).
    public let event: String
    public let queue: String?
    /// Who: the login role that made the mark or ran the action; nil for alerts.
    public let actor: String?
    /// One line: the mark's label, the alert's message, or the audit row's filter.
    public let summary: String
    /// The row's id in its own table: the audit row to open, the mark, the alert event.
    public let id: Int64
    /// The job an audit row concerned, when it concerned exactly one (a cancel, a schedule run).
    public let jobID: UUID?
    public let affected: Int64
    public let detail: JSONText

    public init(at: Date, source: Source, event: String, queue: String?, actor: String?, summary: String,
                id: Int64, jobID: UUID?, affected: Int64, detail: JSONText) {
        self.at = at; self.source = source; self.event = event; self.queue = queue; self.actor = actor
        self.summary = summary; self.id = id; self.jobID = jobID; self.affected = affected; self.detail = detail
    }

    /// A deploy (or any) mark, or an alert that started firing: what the throughput charts mark.
    public var marksChart: Bool { source == .mark || event == "alert.firing" }
}

/// A mark as stored (`timeline_marks`, migration 0022).
public struct TimelineMark: Sendable, Equatable {
    public let id: Int64
    public let at: Date
    public let kind: String
    public let label: String
    public let databaseRole: String
}

/// The incident timeline: marks in, the merged list of marks, alert transitions and audit rows out.
public struct TimelineStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// The most rows one call returns (the SQL function clamps to this too).
    public static let maximumRows = 1000
    public static let maximumLabel = 200

    /// Checked here as well as in SQL, so the CLI says what is wrong without a round trip; the
    /// function is the authority (an app calling it directly gets the same refusals).
    public func mark(_ label: String, kind: String = "deploy") throws -> TimelineMark {
        let trimmed = label.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw QueueStoreError.invalidInput("a mark needs a label, e.g. \"deploy v42\"") }
        guard trimmed.count <= Self.maximumLabel else {
            throw QueueStoreError.invalidInput("the mark label is \(trimmed.count) characters long; at most \(Self.maximumLabel)")
        }
        let row = try explainingMissingMigration {
            try connection.run("SELECT id, at, kind, label, db_role FROM \(qt: "mark_event")(\(label), \(kind))").first
        }
        guard let row else { throw QueueStoreError.database("mark_event returned no row") }
        return TimelineMark(id: try row.decode("id"), at: try row.decode("at"), kind: try row.decode("kind"),
                            label: try row.decode("label"), databaseRole: try row.decode("db_role"))
    }

    /// Newest first, between `since` and `until` (nil: now), at most `limit` rows (1…1000).
    public func list(since: Date, until: Date? = nil, limit: Int = 200) throws -> [TimelineEntry] {
        let limit = max(1, min(limit, Self.maximumRows))
        return try explainingMissingMigration {
            try connection.run("""
                SELECT at, source, event, queue, actor, summary, id, job_id, affected, detail
                FROM \(qt: "timeline")(\(since), \(until), \(limit))
                """)
        }.map { row in
            let source: String = try row.decode("source")
            return TimelineEntry(
                at: try row.decode("at"), source: TimelineEntry.Source(rawValue: source) ?? .audit,
                event: try row.decode("event"), queue: try row.decode("queue"), actor: try row.decode("actor"),
                summary: try row.decode("summary"), id: try row.decode("id"), jobID: try row.decode("job_id"),
                affected: try row.decode("affected"), detail: try row.decode("detail"))
        }
    }
}

extension TimelineStore {
    /// A database migrated by an older queuetop has no timeline: say that, and what to run,
    /// instead of "function … does not exist". Looked up only after a failure.
    func explainingMissingMigration<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.isConnectionProblem {
            throw error
        } catch {
            let installed: Bool? = try? connection.run("""
                SELECT to_regclass(format('%I.timeline_marks', \(connection.schema)::text)) IS NOT NULL AS ok
                """).first?.decode("ok")
            if installed == false {
                throw QueueStoreError.notFound("this database has no incident timeline yet (migration 0022): run `queuetop migrate`")
            }
            throw error
        }
    }

    /// Deploy (and other) marks and alerts that started firing since `since`: the glyphs on the
    /// hourly throughput charts. Two indexed range reads, at most 500 rows, oldest first.
    public func chartMarks(since: Date) throws -> [TimelineEntry] {
        try connection.run("""
            SELECT * FROM (
              (SELECT at, 'mark' AS source, kind AS event, NULL::text AS queue, label AS summary, id
               FROM \(qt: "timeline_marks") WHERE at >= \(since) ORDER BY at DESC LIMIT 250)
              UNION ALL
              (SELECT at, 'alert', 'alert.firing', queue, coalesce(alert->>'message', kind), id
               FROM \(qt: "alert_events") WHERE at >= \(since) AND event = 'firing' ORDER BY at DESC LIMIT 250)
            ) t ORDER BY at
            """).map { row in
            let source: String = try row.decode("source")
            return TimelineEntry(at: try row.decode("at"), source: TimelineEntry.Source(rawValue: source) ?? .mark,
                                 event: try row.decode("event"), queue: try row.decode("queue"), actor: nil,
                                 summary: try row.decode("summary"), id: try row.decode("id"), jobID: nil,
                                 affected: 0, detail: JSONText("{}"))
        }
    }
}
