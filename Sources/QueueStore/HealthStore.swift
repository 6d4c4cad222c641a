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

    /// Which queues' per-type figures (`QueueHealth.types`) a snapshot read carries. They are
    /// read only where they are shown, so the refresh every dashboard pays reads none
    /// (docs/HEALTH.md, "Per-type figures").
    public enum TypeFigures: Sendable, Equatable {
        /// Every queue's (`status --json`, the exporter): `queue_health_snapshot()`.
        case all
        /// None: every queue's `types` is nil. The dashboard's per-tick refresh.
        case none
        /// One queue's (queue detail, `queue show`): the snapshot without types, then
        /// `health_queue_types(name)`, which reads only that queue's per-type rows.
        case queue(String)
    }

    /// One refresh: folds pending deltas (unless the transaction is read-only) and reads
    /// everything the dashboard and `queuetop status` show; per-type figures as `types` says.
    /// For `.queue` the JSON text is the snapshot without types (the decoded snapshot has them).
    public func snapshot(types: TypeFigures = .all) throws -> Reading {
        switch types {
        case .all, .none:
            let json = try snapshotJSON(types: types == .all)
            return Reading(snapshot: try HealthSnapshot.decode(json: json), json: json)
        case .queue(let name):
            // Two statements, the fold first: a statement's snapshot is taken before the fold
            // inside it, so health_queue_types in the same one would count the deltas of a type
            // the queue does not track yet as "other" (it is exact otherwise).
            let json = try snapshotJSON(types: false)
            var snapshot = try HealthSnapshot.decode(json: json)
            if let i = snapshot.queues.firstIndex(where: { $0.name == name }) {
                snapshot.queues[i].types = try queueTypes(name)
            }
            return Reading(snapshot: snapshot, json: json)
        }
    }

    /// The snapshot as the database renders it (compact JSON, keys in jsonb order); without
    /// `types`, no queue has a `types` key and no per-type rollup is read.
    public func snapshotJSON(types: Bool = true) throws -> String {
        try connection.run("SELECT \(qt: "queue_health_snapshot")(\(types)::boolean)::text AS snapshot")
            .scalar(String.self)
    }

    /// One queue's per-type figures over the rolling hour, as the snapshot's `types` shows them;
    /// nil when the queue does not exist. Queue detail reads it beside the per-tick snapshot.
    public func queueTypes(_ queue: String) throws -> [TypeHealth]? {
        guard let json = try connection.run("SELECT \(qt: "health_queue_types")(\(queue)::text)::text AS types")
            .scalar(String?.self) else { return nil }
        return try Self.decodeTypes(json: json)
    }

    static func decodeTypes(json: String) throws -> [TypeHealth] {
        do {
            return try healthJSONDecoder().decode([TypeHealth].self, from: Data(json.utf8))
        } catch {
            throw QueueStoreError.database("the per-type figures did not decode (\(error)); is the database migrated by this version of queuetop?")
        }
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
