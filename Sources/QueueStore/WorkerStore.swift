import Foundation
import Postgres

/// The worker pool's own statements (migration 0004): registry, live queue settings, circuit
/// breakers. The hot path (claim / complete / fail / release / heartbeat) is `JobStore`.
/// Synchronous; the pool calls these from its own threads, each with its own connection.
public struct WorkerStore: Sendable {
    public let connection: Connection
    public let workerID: String

    public init(connection: Connection, workerID: String) {
        self.connection = connection
        self.workerID = workerID
    }

    /// Live settings of one queue plus its fleet-wide breaker state.
    public struct QueueSettings: Sendable, Equatable {
        public var name: String
        public var paused: Bool
        public var concurrencyLimit: Int?
        public var rateLimitPerSecond: Double?
        public var visibilityTimeoutSeconds: Int
        public var breakerState: String
        public var breakerReopenAt: Date?
        /// Per-tenant claims per second (0010), nil = no tenant rate cap.
        public var tenantRateLimitPerSecond: Double? = nil

        /// Claims of this queue are paced by a token bucket that refills continuously.
        public var isRateLimited: Bool { rateLimitPerSecond != nil || tenantRateLimitPerSecond != nil }
    }

    // MARK: registry, settings, breakers (0004)

    public func register(host: String, pid: Int, queues: [String]?, concurrency: Int) throws {
        try connection.execute(
            "SELECT \(qt: "register_worker")(\(workerID), \(host), \(pid), \(queues)::text[], \(concurrency))")
    }

    /// Returns the registry status (`running` / `quiet` / `draining`), nil when the row is gone.
    /// `buffered`: of `inFlight`, the jobs claimed ahead whose handler has not started.
    /// A database not migrated to 0024 yet (this build's workers start before `queuetop migrate`
    /// runs, in a rolling upgrade) has only the two-argument form: that one is used, without the
    /// count. Any other error, or the same one again (the install moved), goes to the caller.
    public func registryHeartbeat(inFlight: Int, buffered: Int = 0) throws -> String? {
        do {
            let rows = try connection.query("SELECT \(qt: "worker_heartbeat")(\(workerID), \(inFlight), \(buffered))")
            return try rows.first?.decode(0, as: String?.self)
        } catch let error as PostgresError where error.sqlState == "42883" {  // undefined_function
            let rows = try connection.query("SELECT \(qt: "worker_heartbeat")(\(workerID), \(inFlight))")
            return try rows.first?.decode(0, as: String?.self)
        }
    }

    public func deregister() throws {
        try connection.execute("SELECT \(qt: "deregister_worker")(\(workerID))")
    }

    public func queueSettings(queues: [String]?) throws -> [QueueSettings] {
        let rows = try connection.query("""
            SELECT name, paused, concurrency_limit, rate_limit_per_s, visibility_timeout_s,
                   breaker_state, breaker_reopen_at, tenant_rate_limit_per_s
            FROM \(qt: "worker_queue_settings")(\(queues)::text[])
            """)
        return try rows.map { row in
            QueueSettings(name: try row.decode(0), paused: try row.decode(1),
                          concurrencyLimit: try row.decode(2, as: Int?.self),
                          rateLimitPerSecond: try row.decode(3, as: Double?.self),
                          visibilityTimeoutSeconds: try row.decode(4),
                          breakerState: try row.decode(5), breakerReopenAt: try row.decode(6, as: Date?.self),
                          tenantRateLimitPerSecond: try row.decode(7, as: Double?.self))
        }
    }

    // MARK: running jobs (0020)

    /// Whether this install has the running-job functions of 0020. A worker of this build may run
    /// against a database not migrated yet (a rolling upgrade, LiveSchemaMoveTests): it must not
    /// call a function that is not there every second. Read from the catalog, which never errors.
    public func hasRunningJobCancel() throws -> Bool {
        try connection.query("""
            SELECT EXISTS (SELECT FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                           WHERE n.nspname = \(connection.schema)::text AND p.proname = 'worker_cancel_requests')
            """).scalar()
    }

    /// The jobs this worker holds that an operator asked to stop (the poll fallback of
    /// NOTIFY queuetop_cancel).
    public func cancelRequests() throws -> [JobID] {
        try connection.query("SELECT id FROM \(qt: "worker_cancel_requests")(\(workerID)) AS id").map { try $0.decode(0) }
    }

    /// Records which PostgreSQL backend the sql handler runs each job on. Returns how many of
    /// the jobs this worker still held.
    @discardableResult
    public func recordHandlerBackends(ids: [JobID], pids: [Int]) throws -> Int {
        try connection.query("SELECT \(qt: "record_handler_backends")(\(workerID), \(ids)::uuid[], \(pids)::int[])").scalar()
    }

    public func setCircuitBreaker(queue: String, state: String, failures: Int, reopenAt: Date?) throws {
        try connection.execute(
            "SELECT \(qt: "set_circuit_breaker")(\(queue), \(state), \(failures), \(reopenAt)::timestamptz)")
    }
}
