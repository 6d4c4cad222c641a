import Foundation
import Postgres

/// What the PostgreSQL backend running a sql-handler job is doing (issue 18, item 8): its state,
/// wait event and the locks it waits for, from pg_stat_activity and pg_locks. The worker records
/// the backend's pid on the job (`job_queue.handler_backend_pid`, record_handler_backends) when the
/// handler starts; this reads it with the caller's own rights, so what it shows is what that role
/// may see: PostgreSQL hides another role's state, query and wait event from a role that is not a
/// member of pg_read_all_stats (or the backend's own role), and then `visible` is false.
public struct JobBackend: Sendable, Equatable {
    public let pid: Int
    /// False when the backend exists but its details are hidden from this role.
    public let visible: Bool
    /// The role the backend runs as (shown even when the rest is hidden).
    public let role: String?
    /// active, idle in transaction, …
    public let state: String?
    public let waitEventType: String?
    public let waitEvent: String?
    public let queryStart: Date?
    /// The locks it waits for: "relation AccessExclusiveLock on public.orders".
    public let waitingFor: [String]
    /// The backends holding what it waits for (pg_blocking_pids).
    public let blockedBy: [Int]

    public init(pid: Int, visible: Bool, role: String? = nil, state: String? = nil, waitEventType: String? = nil,
                waitEvent: String? = nil, queryStart: Date? = nil, waitingFor: [String] = [], blockedBy: [Int] = []) {
        self.pid = pid; self.visible = visible; self.role = role; self.state = state
        self.waitEventType = waitEventType; self.waitEvent = waitEvent; self.queryStart = queryStart
        self.waitingFor = waitingFor; self.blockedBy = blockedBy
    }

    /// "Lock: relation" or "-": the wait event as one phrase.
    public var waitDescription: String {
        guard let waitEventType else { return "none (running)" }
        return waitEvent.map { "\(waitEventType): \($0)" } ?? waitEventType
    }

    /// Why a role sees no details, in words: what to grant.
    public static let hiddenReason = "not visible to this role (PostgreSQL shows another role's activity to members of pg_read_all_stats)"
}

extension JobStore {
    /// The backend `pid` as `pg_stat_activity` and `pg_locks` show it to this connection's role;
    /// nil when no such backend exists any more (the statement ended, or the worker went away).
    public func backend(pid: Int) throws -> JobBackend? {
        let rows = try connection.query("""
            SELECT a.usename::text AS role, a.state, a.wait_event_type, a.wait_event, a.query_start,
                   (a.query IS NULL OR a.query = '<insufficient privilege>') AS hidden,
                   pg_catalog.pg_blocking_pids(a.pid) AS blockers,
                   ARRAY(SELECT l.locktype || ' ' || l.mode
                                || coalesce(' on ' || l.relation::pg_catalog.regclass::text, '')
                                || coalesce(' (transaction ' || l.transactionid::text || ')', '')
                         FROM pg_catalog.pg_locks l WHERE l.pid = a.pid AND NOT l.granted
                         ORDER BY 1) AS waiting
            FROM pg_catalog.pg_stat_activity a WHERE a.pid = \(pid)
            """)
        guard let r = rows.first else { return nil }
        let hidden: Bool = try r.decode("hidden")
        return JobBackend(pid: pid, visible: !hidden, role: try r.decode("role"), state: try r.decode("state"),
                          waitEventType: try r.decode("wait_event_type"), waitEvent: try r.decode("wait_event"),
                          queryStart: try r.decode("query_start"), waitingFor: try r.decode("waiting"),
                          blockedBy: try r.decode("blockers", as: [Int].self))
    }
}

/// The job view's and `job show`'s words for a job's backend: one place, so both say the same.
/// The caller makes each line terminal-safe (`SafeText`): role names and lock targets are data.
public enum JobBackendText {
    public static func lines(pid: Int, _ backend: JobBackend?) -> [String] {
        guard let backend else { return ["pid \(pid): gone (its statement ended)"] }
        let role = backend.role.map { " as \($0)" } ?? ""
        guard backend.visible else { return ["pid \(pid)\(role): \(JobBackend.hiddenReason)"] }
        var lines = ["pid \(pid)\(role), \(backend.state ?? "?"), wait \(backend.waitDescription)"]
        if !backend.waitingFor.isEmpty { lines.append("waits for \(backend.waitingFor.joined(separator: "; "))") }
        if !backend.blockedBy.isEmpty {
            lines.append("blocked by pid \(backend.blockedBy.map(String.init).joined(separator: ", "))")
        }
        return lines
    }
}
