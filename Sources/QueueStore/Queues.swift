import Foundation
import Postgres

/// A queue's settings row (`queues`).
public struct QueueConfig: Sendable, Equatable {
    public let name: String
    public let paused: Bool
    /// nil = unlimited.
    public let concurrencyLimit: Int?
    public let maxAttempts: Int
    public let backoffBaseSeconds: Int
    public let backoffCapSeconds: Int
    /// Explicit per-attempt delays; wins over exponential when set.
    public let backoffScheduleSeconds: [Int]?
    public let visibilityTimeoutSeconds: Int
    public let rateLimitPerSecond: Double?
    public let retentionSeconds: Int
    /// What each tenant of the queue may have in flight and claim per second (migration 0010).
    public let tenantCaps: TenantCaps
}

/// Queue settings: list, pause, resume, scale, update. Operator actions are audited by the SQL.
public struct QueueConfigStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    static let columns = """
        name, paused, concurrency_limit, max_attempts, backoff_base_s, backoff_cap_s, backoff_schedule_s,
        visibility_timeout_s, rate_limit_per_s::float8 AS rate_limit_per_s, retention_s, \(TenantCaps.columns)
        """

    public func list() throws -> [QueueConfig] {
        try connection.run("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "queues") ORDER BY name").map(Self.decode)
    }

    /// Throws `.notFound` for an unknown queue.
    public func get(_ name: String) throws -> QueueConfig {
        guard let row = try connection.run("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "queues") WHERE name = \(name)").first else {
            throw QueueStoreError.notFound("unknown queue \"\(name)\"; list queues with `queuetop queue list`")
        }
        return try Self.decode(row)
    }

    @discardableResult
    public func pause(_ name: String) throws -> QueueConfig { try apply("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "pause_queue")(\(name))") }

    @discardableResult
    public func resume(_ name: String) throws -> QueueConfig { try apply("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "resume_queue")(\(name))") }

    /// nil = unlimited.
    @discardableResult
    public func setConcurrency(_ name: String, _ limit: Int?) throws -> QueueConfig {
        try apply("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "set_queue_concurrency")(\(name), \(limit)::int)")
    }

    /// `settings` is a JSON object of `queues` columns, e.g. {"backoff_schedule_s": [300, 900, 1800]}.
    @discardableResult
    public func update(_ name: String, settings: JSONText) throws -> QueueConfig {
        try apply("SELECT \(unsafeRaw: Self.columns) FROM \(qt: "update_queue_settings")(\(name), \(settings)::jsonb)")
    }

    /// Whether the connected role may run operator actions (pause, scale, requeue, delete,
    /// cancel). The database is the authority (migration 0007 grants these functions to
    /// `queuetop_operator`; owners and superusers have them anyway), so the dashboard asks it once
    /// after connecting and goes read-only when the answer is no, instead of offering keys that
    /// would fail with "permission denied".
    /// A role without USAGE on the schema may do nothing (and could not even name the functions:
    /// `::regprocedure` would fail with "permission denied for schema").
    public func canOperate() throws -> Bool {
        try connection.run("""
            SELECT CASE WHEN has_schema_privilege(\(connection.schema)::text, 'USAGE') THEN
                     (SELECT bool_and(has_function_privilege(format('%I.%s', \(connection.schema)::text, f)::regprocedure, 'EXECUTE'))
                      FROM unnest(\(Self.operatorProbes)::text[]) f)
                   ELSE false END
            """).scalar(Bool.self)
    }

    /// One function per kind of operator action: a role must be able to run all of them.
    static let operatorProbes = [
        "pause_queue(text)", "set_queue_concurrency(text, int)",
        "requeue_dlq_jobs(uuid[], boolean)", "delete_dlq_jobs(uuid[])", "cancel_job(uuid)",
    ]

    private func apply(_ query: Query) throws -> QueueConfig {
        guard let row = try connection.run(query).first else { throw QueueStoreError.database("the queue function returned nothing") }
        return try Self.decode(row)
    }

    static func decode(_ row: Row) throws -> QueueConfig {
        QueueConfig(name: try row.decode("name"), paused: try row.decode("paused"),
                      concurrencyLimit: try row.decode("concurrency_limit"), maxAttempts: try row.decode("max_attempts"),
                      backoffBaseSeconds: try row.decode("backoff_base_s"), backoffCapSeconds: try row.decode("backoff_cap_s"),
                      backoffScheduleSeconds: try row.decode("backoff_schedule_s"),
                      visibilityTimeoutSeconds: try row.decode("visibility_timeout_s"),
                      rateLimitPerSecond: try row.decode("rate_limit_per_s"), retentionSeconds: try row.decode("retention_s"),
                      tenantCaps: try TenantCaps.decode(row))
    }
}
