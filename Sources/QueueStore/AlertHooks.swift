import Foundation
import Postgres

/// A webhook that health alerts are POSTed to (migrations/0008). The secret header's value is
/// never stored: `secretEnv` names the environment variable the delivering worker reads it from.
public struct AlertHook: Sendable, Equatable {
    public let name: String
    public let url: String
    public let secretHeader: String?
    public let secretEnv: String?
    public let secretPrefix: String
    public let enabled: Bool
}

/// One delivery attempt of one notification (`alert_deliveries`).
public struct AlertDelivery: Sendable, Equatable {
    public let id: Int64
    public let hook: String
    public let alertKey: String
    /// `firing` or `cleared`.
    public let event: String
    public let attempt: Int
    public let ok: Bool
    public let httpStatus: Int?
    public let error: String?
    public let durationMs: Int?
    public let at: Date
    /// The notification's status after this attempt: pending (will retry), delivered, failed (gave up).
    public let notificationStatus: String
}

/// A notification leased to this deliverer, with what it needs to POST it.
public struct PendingAlertNotification: Sendable, Equatable {
    public let id: Int64
    public let hook: String
    public let url: String
    public let secretHeader: String?
    public let secretEnv: String?
    public let secretPrefix: String
    public let payload: JSONText
    public let attempts: Int
}

/// Alert hooks: the operator's list/add/remove (audited by the SQL), the state sync that turns
/// alerts firing or clearing into notifications, and the deliverer's lease and record.
public struct AlertHookStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// Give up on a notification after this many failed attempts (1 + 2 + 4 … ≈ 2 minutes).
    public static let maxAttempts = 8

    public func list() throws -> [AlertHook] {
        try connection.run("""
            SELECT name, url, secret_header, secret_env, secret_prefix, enabled FROM \(qt: "alert_hooks") ORDER BY name
            """).map(Self.decodeHook)
    }

    /// `secretHeader` and `secretEnv` go together: the header is sent with the value of that
    /// environment variable (plus `secretPrefix`, e.g. "Bearer ").
    public func add(name: String, url: String, secretHeader: String? = nil, secretEnv: String? = nil,
                    secretPrefix: String = "") throws -> AlertHook {
        try ScheduleStore.checkName(name, what: "alert hook")
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parsed.host, !host.isEmpty else {
            throw QueueStoreError.invalidInput("hook URL must be an http:// or https:// URL with a host, got \"\(redactingURLCredentials(url))\"")
        }
        guard (secretHeader == nil) == (secretEnv == nil) else {
            throw QueueStoreError.invalidInput("a secret header needs both its name and the environment variable holding its value")
        }
        if let header = secretHeader, header.range(of: #"^[A-Za-z0-9-]{1,100}$"#, options: .regularExpression) == nil {
            throw QueueStoreError.invalidInput("header name \"\(header.prefix(120))\" must be letters, digits and '-'")
        }
        if let variable = secretEnv, variable.range(of: #"^[A-Za-z_][A-Za-z0-9_]{0,127}$"#, options: .regularExpression) == nil {
            throw QueueStoreError.invalidInput("\"\(variable.prefix(130))\" is not an environment variable name (letters, digits, '_', not starting with a digit)")
        }
        guard let row = try connection.run("""
            SELECT name, url, secret_header, secret_env, secret_prefix, enabled
            FROM \(qt: "add_alert_hook")(\(name), \(url), \(secretHeader), \(secretEnv), \(secretPrefix))
            """).first else { throw QueueStoreError.database("add_alert_hook returned nothing") }
        return try Self.decodeHook(row)
    }

    /// Removes the hook and its undelivered notifications; the delivery history goes with it.
    public func remove(_ name: String) throws {
        try connection.run("SELECT \(qt: "remove_alert_hook")(\(name))")
    }

    /// Newest first: what `queuetop alerts deliveries` and the dashboard's "last delivery" show.
    public func deliveries(limit: Int = 50, hook: String? = nil) throws -> [AlertDelivery] {
        try connection.run("""
            SELECT \(unsafeRaw: Self.deliveryColumns)
            FROM \(qt: "alert_deliveries") d JOIN \(qt: "alert_notifications") n ON n.id = d.notification_id
            WHERE \(hook)::text IS NULL OR d.hook = \(hook)
            ORDER BY d.id DESC LIMIT \(max(1, min(limit, 10000)))
            """).map(Self.decodeDelivery)
    }

    /// The columns `decodeDelivery` reads, over `alert_deliveries d JOIN alert_notifications n`.
    static let deliveryColumns = """
        d.id, d.hook, d.alert_key, d.event, d.attempt, d.ok, d.http_status, d.error, d.duration_ms, d.at,
        n.status AS notification_status
        """

    static func decodeDelivery(_ row: Row) throws -> AlertDelivery {
        AlertDelivery(id: try row.decode("id"), hook: try row.decode("hook"), alertKey: try row.decode("alert_key"),
                      event: try row.decode("event"), attempt: try row.decode("attempt"), ok: try row.decode("ok"),
                      httpStatus: try row.decode("http_status"), error: try row.decode("error"),
                      durationMs: try row.decode("duration_ms"), at: try row.decode("at"),
                      notificationStatus: try row.decode("notification_status"))
    }

    /// The most recent delivery attempt, for the dashboard.
    public func lastDelivery() throws -> AlertDelivery? { try deliveries(limit: 1).first }

    /// Compares the health snapshot's alerts with the last state seen and queues one notification
    /// per hook for each alert that started firing or cleared. Does nothing (returns 0) when any
    /// process synced less than `minInterval` seconds ago. nil: another process holds the sync
    /// lock right now (it is doing the work).
    @discardableResult
    public func syncAlertStates(minInterval: Double = 0) throws -> Int? {
        try connection.run("SELECT \(qt: "sync_alert_states")(\(minInterval)) AS n").first?.decode("n")
    }

    /// Leases up to `max` due notifications for `leaseSeconds`.
    public func claimNotifications(max: Int = 20, leaseSeconds: Int = 60) throws -> [PendingAlertNotification] {
        try connection.run("""
            SELECT id, hook, url, secret_header, secret_env, secret_prefix, payload, attempts
            FROM \(qt: "claim_alert_notifications")(\(max), \(leaseSeconds))
            """).map {
            PendingAlertNotification(id: try $0.decode("id"), hook: try $0.decode("hook"), url: try $0.decode("url"),
                                     secretHeader: try $0.decode("secret_header"), secretEnv: try $0.decode("secret_env"),
                                     secretPrefix: try $0.decode("secret_prefix"), payload: try $0.decode("payload"),
                                     attempts: try $0.decode("attempts"))
        }
    }

    /// Records one attempt; returns the notification's new status (pending = will retry).
    /// `giveUp`: a failure no retry can fix; the notification is failed at once.
    @discardableResult
    public func recordDelivery(id: Int64, ok: Bool, httpStatus: Int?, error: String?, durationMs: Int,
                               giveUp: Bool = false) throws -> String {
        let maxAttempts = giveUp && !ok ? 1 : Self.maxAttempts
        return try connection.run("""
            SELECT \(qt: "record_alert_delivery")(\(id), \(ok), \(httpStatus), \(error), \(durationMs), \(maxAttempts))
            """).scalar()
    }

    /// Whether migration 0008 is applied; the worker's alerts thread waits quietly until it is.
    public func isInstalled() throws -> Bool {
        try connection.run("""
            SELECT to_regproc(format('%I.sync_alert_states', \(connection.schema)::text)) IS NOT NULL AS ok
            """).scalar()
    }

    static func decodeHook(_ row: Row) throws -> AlertHook {
        AlertHook(name: try row.decode("name"), url: try row.decode("url"), secretHeader: try row.decode("secret_header"),
                  secretEnv: try row.decode("secret_env"), secretPrefix: try row.decode("secret_prefix"),
                  enabled: try row.decode("enabled"))
    }
}
