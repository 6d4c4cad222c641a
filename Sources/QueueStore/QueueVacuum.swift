import Foundation
import Postgres

/// VACUUM of job_queue run by a worker itself (Workers/QueueVacuum.swift says when and why).
public struct QueueVacuumStore: Sendable {
    public let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Whether this role may VACUUM job_queue: a superuser, the table's owner or the database's
    /// owner (or a member of either). For anyone else VACUUM only warns and skips the table.
    public func mayVacuum() throws -> Bool {
        try connection.query("""
            SELECT r.rolsuper OR pg_has_role(current_user, c.relowner, 'USAGE')
                   OR pg_has_role(current_user, d.datdba, 'USAGE')
            FROM pg_roles r, pg_class c, pg_database d
            WHERE r.rolname = current_user AND c.oid = to_regclass(format('%I.job_queue', \(connection.schema)::text)) AND d.datname = current_database()
            """).scalar()
    }

    /// One VACUUM of job_queue. SKIP_LOCKED: when autovacuum (or another worker) is vacuuming it
    /// already, this returns at once instead of queueing behind it. INDEX_CLEANUP ON: the point
    /// is the claim index (PostgreSQL 14+ would otherwise skip index cleanup when few heap
    /// pages have dead rows, which is exactly the case on a large table with a busy head).
    /// TRUNCATE false: giving empty pages at the end back to the OS takes an ACCESS EXCLUSIVE
    /// lock, which would stall every claim and enqueue meanwhile; a queue table refills them.
    /// The skip warning is silenced on this connection only.
    public func vacuum() throws {
        try connection.execute("SET client_min_messages = error")
        // Minutes on a big table, with no statement timeout: never cut by the liveness bound.
        try connection.withPatience(.unbounded) {
            try connection.execute("VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON, TRUNCATE false) \(qt: "job_queue")")
        }
    }
}
