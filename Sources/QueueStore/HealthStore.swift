import Foundation
import Postgres

/// The queue-health reads and their maintenance (migrations/0003_health.sql). Every refresh is
/// one round trip whose cost does not grow with the number of jobs.
public struct HealthStore: Sendable {
    public let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// A decoded snapshot together with the JSON text it came from, so `--json` can print
    /// exactly what the database produced (including fields this build does not model).
    public struct Reading: Sendable, Equatable {
        public var snapshot: HealthSnapshot
        public var json: String
    }

    /// One refresh: folds pending deltas (unless the transaction is read-only) and reads
    /// everything the dashboard and `queuetop status` show.
    public func snapshot() throws -> Reading {
        let json = try snapshotJSON()
        return Reading(snapshot: try HealthSnapshot.decode(json: json), json: json)
    }

    /// The snapshot as the database renders it (compact JSON, keys in jsonb order).
    public func snapshotJSON() throws -> String {
        try connection.run("SELECT \(qt: "queue_health_snapshot")()::text AS snapshot").scalar(String.self)
    }

    /// Moves committed counter and rollup deltas into the rollups. Returns false when another
    /// session was folding at that moment (nothing to do: reads stay exact either way).
    /// The snapshot folds by itself; long-running processes may call this every few seconds so
    /// that deltas never pile up while nobody watches.
    @discardableResult
    public func fold() throws -> Bool {
        try connection.run("SELECT \(qt: "health_fold")()").scalar(Bool.self)
    }

    /// Deletes rollup rows older than `olderThanSeconds` (default: `health_settings.retention`,
    /// 7 days). Returns the rows deleted.
    @discardableResult
    public func prune(olderThanSeconds: Int? = nil) throws -> Int64 {
        try connection.run("SELECT \(qt: "health_prune")(\(olderThanSeconds.map { Double($0) }) * interval '1 second')")
            .scalar(Int64.self)
    }
}
