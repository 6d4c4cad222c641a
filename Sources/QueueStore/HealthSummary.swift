import Foundation
import Postgres

/// The part of a health snapshot that adding contexts up needs (`HealthSum`: the all view and
/// `status --all-contexts`): each queue's counts, oldest pending age and last hour, and the
/// alerts. Picked out of `queue_health_snapshot()` by the server, so a client watching ten
/// databases neither receives nor decodes ten throughput series, latency histograms, worker
/// lists... (issue 21: decoding ten whole snapshots cost more than the reads themselves).
public struct HealthSummary: Sendable, Equatable, Codable {
    public var generatedAt: Date
    /// Ordered by name, as in the snapshot.
    public var queues: [QueueSummary]
    public var alerts: [Alert]

    public init(generatedAt: Date, queues: [QueueSummary], alerts: [Alert]) {
        self.generatedAt = generatedAt; self.queues = queues; self.alerts = alerts
    }

    /// Decodes the JSON `HealthStore.summaryJSON()` reads (snake_case keys, as the snapshot).
    public static func decode(json: String) throws -> HealthSummary {
        do {
            return try healthJSONDecoder().decode(HealthSummary.self, from: Data(json.utf8))
        } catch {
            throw QueueStoreError.database("the health summary did not decode (\(error)); is the database migrated by this version of queuetop?")
        }
    }
}

/// One queue's figures in a `HealthSummary`: the same fields, with the same meaning, as in
/// `QueueHealth`.
public struct QueueSummary: Sendable, Equatable, Codable {
    public var name: String
    public var paused: Bool
    public var counts: StatusCounts
    public var oldestPendingSeconds: Int64
    public var lastHour: PeriodTotals

    public init(name: String, paused: Bool, counts: StatusCounts, oldestPendingSeconds: Int64, lastHour: PeriodTotals) {
        self.name = name; self.paused = paused; self.counts = counts
        self.oldestPendingSeconds = oldestPendingSeconds; self.lastHour = lastHour
    }
}

extension HealthSnapshot {
    /// The summary of a snapshot already read whole (what the server's summary read returns).
    public var summary: HealthSummary {
        HealthSummary(generatedAt: generatedAt, queues: queues.map(\.summary), alerts: alerts)
    }
}

extension QueueHealth {
    public var summary: QueueSummary {
        QueueSummary(name: name, paused: paused, counts: counts, oldestPendingSeconds: oldestPendingSeconds, lastHour: lastHour)
    }
}

extension HealthStore {
    /// The summary, keys picked out of the snapshot in SQL (a constant: no value is spliced in). A `SELECT` over the snapshot function
    /// the viewer may already call: it works for every role that may read health, and on a hot
    /// standby (the snapshot does not fold there).
    static let summarySQL = """
        jsonb_build_object(
          'generated_at', s->'generated_at',
          'queues', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'name', q->'name', 'paused', q->'paused', 'counts', q->'counts',
                                'oldest_pending_seconds', q->'oldest_pending_seconds', 'last_hour', q->'last_hour')
                              ORDER BY i)
                              FROM jsonb_array_elements(s->'queues') WITH ORDINALITY AS e(q, i)), '[]'::jsonb),
          'alerts', s->'alerts')::text
        """

    /// The summary as JSON text.
    public func summaryJSON() throws -> String {
        try connection.run("SELECT \(unsafeRaw: Self.summarySQL) AS summary FROM \(qt: "queue_health_snapshot")(false) AS s")
            .scalar(String.self)
    }

    public func summary() throws -> HealthSummary {
        try HealthSummary.decode(json: try summaryJSON())
    }

    /// The whole snapshot's text (for `--json`, which prints it as the database produced it)
    /// and its summary, from one call of the snapshot function.
    public func snapshotJSONAndSummary() throws -> (json: String, summary: HealthSummary) {
        let result = try connection.run(
            "SELECT s::text AS snapshot, \(unsafeRaw: Self.summarySQL) AS summary FROM \(qt: "queue_health_snapshot")() AS s")
        guard let row = result.first else { throw QueueStoreError.database("the health snapshot returned no row") }
        return (try row.decode("snapshot"), try HealthSummary.decode(json: try row.decode("summary")))
    }
}
