import Foundation
import Postgres

/// One tenant's share of a queue's backlog, as `queue_tenants` (migration 0010) reports it.
public struct TenantBacklog: Sendable, Equatable {
    public var tenant: String
    public var pending: Int64
    public var processing: Int64
    /// Seconds the tenant's oldest pending job has waited; nil when none of its jobs is pending.
    public var oldestPendingSeconds: Double?

    public init(tenant: String, pending: Int64, processing: Int64, oldestPendingSeconds: Double?) {
        self.tenant = tenant; self.pending = pending; self.processing = processing
        self.oldestPendingSeconds = oldestPendingSeconds
    }
}

/// What a queue allows each tenant (`queues.tenant_concurrency_limit`, `tenant_rate_limit_per_s`);
/// nil = no cap of that kind.
public struct TenantCaps: Sendable, Equatable {
    public var concurrencyLimit: Int?
    public var ratePerSecond: Double?

    public init(concurrencyLimit: Int?, ratePerSecond: Double?) {
        self.concurrencyLimit = concurrencyLimit; self.ratePerSecond = ratePerSecond
    }

    public var isEmpty: Bool { concurrencyLimit == nil && ratePerSecond == nil }

    /// The select-list that `decode` reads, for a query on `queues` (aliased or not).
    static let columns = "tenant_concurrency_limit, tenant_rate_limit_per_s::float8 AS tenant_rate_limit_per_s"

    static func decode(_ row: Row) throws -> TenantCaps {
        TenantCaps(concurrencyLimit: try row.decode("tenant_concurrency_limit"),
                   ratePerSecond: try row.decode("tenant_rate_limit_per_s"))
    }
}

/// Jobs the expirer cancelled because they were still pending past their `expires_at`.
public struct ExpiredCounts: Sendable, Equatable {
    public var lastHour: Int64
    public var last24h: Int64

    public init(lastHour: Int64, last24h: Int64) { self.lastHour = lastHour; self.last24h = last24h }
}

/// What queue detail shows about one queue beyond the health snapshot: its tenant caps, its
/// top tenants by backlog and its expired jobs. Read only while someone looks at that queue
/// (screen 2, `queuetop queue show`), because ranking tenants costs a query the overview's
/// refresh must not pay.
public struct QueueTenantReport: Sendable, Equatable {
    public var queue: String
    public var caps: TenantCaps
    /// Most pending first (ties by tenant name), at most the `maxTenants` asked for.
    public var tenants: [TenantBacklog]
    public var expired: ExpiredCounts

    public init(queue: String, caps: TenantCaps, tenants: [TenantBacklog], expired: ExpiredCounts) {
        self.queue = queue; self.caps = caps; self.tenants = tenants; self.expired = expired
    }
}

/// Reads the tenant side of a queue (migration 0010): caps, backlog per tenant, expired counts.
/// Read-only; the viewer role may run it.
public struct QueueTenantStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// The most tenants `report` ranks: a screen or a terminal page shows no more.
    public static let maximumTenants = 1000

    /// Throws `.notFound` for an unknown queue and `.invalidInput` for `maxTenants` outside
    /// 1…`maximumTenants`, before asking the database anything else.
    public func report(queue: String, maxTenants: Int = 10) throws -> QueueTenantReport {
        guard (1...Self.maximumTenants).contains(maxTenants) else {
            throw QueueStoreError.invalidInput("tenants to show must be between 1 and \(Self.maximumTenants); got \(maxTenants)")
        }
        // queue_expired_counts runs per queue row (a function in FROM sees the row before it).
        guard let row = try connection.run("""
            SELECT \(unsafeRaw: TenantCaps.columns), coalesce(e.last_hour, 0) AS expired_last_hour, coalesce(e.last_24h, 0) AS expired_last_24h
            FROM \(qt: "queues") q LEFT JOIN \(qt: "queue_expired_counts")(array[q.name]) e ON e.queue = q.name
            WHERE q.name = \(queue)
            """).first else {
            throw QueueStoreError.notFound("unknown queue \"\(queue)\"; list queues with `queuetop queue list`")
        }
        let tenants = try connection.run("""
            SELECT tenant, pending, processing, oldest_pending_s FROM \(qt: "queue_tenants")(\(queue)::text, \(maxTenants)::int)
            ORDER BY pending DESC, tenant
            """).map {
            TenantBacklog(tenant: try $0.decode("tenant"), pending: try $0.decode("pending"),
                          processing: try $0.decode("processing"), oldestPendingSeconds: try $0.decode("oldest_pending_s"))
        }
        return QueueTenantReport(
            queue: queue,
            caps: try TenantCaps.decode(row),
            tenants: tenants,
            expired: ExpiredCounts(lastHour: try row.decode("expired_last_hour"), last24h: try row.decode("expired_last_24h")))
    }
}
