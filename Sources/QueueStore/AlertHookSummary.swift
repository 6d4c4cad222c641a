import Foundation
import Postgres

/// What the dashboard's overview says about alert hooks: whether any exist, and the latest
/// delivery attempt of any of them.
public struct AlertHookSummary: Sendable, Equatable {
    public let hookCount: Int
    public let lastDelivery: AlertDelivery?
    public init(hookCount: Int, lastDelivery: AlertDelivery?) {
        self.hookCount = hookCount
        self.lastDelivery = lastDelivery
    }
}

extension AlertHookStore {
    /// Both figures in one round trip, cheap enough for every dashboard refresh (the latest
    /// delivery is the top of `alert_deliveries`' primary key). A database without migration
    /// 0008 has no hooks, which is what it answers then instead of failing the refresh.
    public func summary() throws -> AlertHookSummary {
        let rows: QueryResult
        do {
            // `query`, not `run`: the missing-table case is told apart by its SQLSTATE.
            rows = try connection.query("""
                SELECT (SELECT count(*) FROM \(qt: "alert_hooks")) AS hooks, last.*
                FROM (SELECT 1) AS one
                LEFT JOIN LATERAL (
                    SELECT \(unsafeRaw: Self.deliveryColumns)
                    FROM \(qt: "alert_deliveries") d JOIN \(qt: "alert_notifications") n ON n.id = d.notification_id
                    ORDER BY d.id DESC LIMIT 1
                ) AS last ON true
                """)
        } catch let error as PostgresError where error.sqlState == "42P01" {  // undefined_table
            return AlertHookSummary(hookCount: 0, lastDelivery: nil)
        }
        guard let row = rows.first else { throw QueueStoreError.database("the alert hook summary returned no row") }
        let hooks: Int64 = try row.decode("hooks")
        let hasDelivery = (try row.decode("id") as Int64?) != nil
        return AlertHookSummary(hookCount: Int(hooks), lastDelivery: hasDelivery ? try Self.decodeDelivery(row) : nil)
    }
}
