import Foundation
import Synchronization
import Postgres
import QueueStore

/// Calls SQL with the job's payload, on connections of its own (a small pool, one per executor
/// that needs one, so SQL jobs run in parallel without touching the pool's hot-path connections).
///
/// Two modes:
/// - `function`: `SELECT <function>(payload::jsonb)` under `statement_timeout`. The name comes from
///   the config file and is checked to be a plain (schema-qualified) identifier at startup.
/// - `bulk_operation`: payload `{"operation_id": N, "batch_size": M}`; runs
///   `run_bulk_operation_batch` until the operation is completed, cancelled or failed. Progress is
///   written by the SQL after every batch. Lead migrations (`lead_migration` jobs) run this way.
public final class SQLHandler: JobHandler, Sendable, CustomStringConvertible, CustomReflectable {
    public enum Mode: Sendable, Equatable {
        case function(String)
        case bulkOperation
    }

    public let mode: Mode
    /// Per statement (one batch in bulk mode), not per job: a million-lead migration is many batches.
    public let timeout: TimeInterval
    private let database: ConnectionConfig
    private let idle = Mutex<[Connection]>([])

    public init(mode: Mode, timeout: TimeInterval, database: ConnectionConfig) {
        self.mode = mode
        self.timeout = timeout
        self.database = database
    }

    public var kind: String { "sql" }

    /// The connection config is reduced to its redacted endpoint, also under reflection.
    public var description: String { "sql \(mode) on \(database.endpoint) (timeout \(Int(timeout)) s)" }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    /// `name` or `schema.name`, lower-case identifiers: the only SQL text a config file supplies.
    public static func isValidFunctionName(_ name: String) -> Bool {
        name.range(of: #"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$"#, options: .regularExpression) != nil
    }

    public func handle(_ context: JobContext) -> JobOutcome {
        // A pooled connection may have died while idle (the server restarted). That says nothing
        // about the job: drop every idle connection (they went down together) and run the job
        // once more on a fresh one, instead of failing it and feeding the circuit breaker.
        let first = attempt(context, fresh: false)
        guard first.wasPooledConnectionLost else { return first.outcome }
        for connection in idle.withLock({ pool in defer { pool.removeAll() }; return pool }) { connection.close() }
        return attempt(context, fresh: true).outcome
    }

    private func attempt(_ context: JobContext, fresh: Bool) -> (outcome: JobOutcome, wasPooledConnectionLost: Bool) {
        let connection: Connection
        let pooled: Bool
        do {
            (connection, pooled) = try checkout(fresh: fresh)
        } catch {
            return (.failed(HandlerFailure(message: "sql handler cannot connect: \(error)", errorType: "connection_error", retryable: true)), false)
        }
        var healthy = true
        defer { checkin(connection, healthy: healthy && connection.isConnected && !context.cancellation.isCancelled) }
        // Cancelling the job (an operator, or shutdown) cancels the statement on the server
        // (PQcancel); the connection is then closed, not reused, so a late cancel request can
        // never reach another job's statement.
        if context.cancellation.isCancelled {
            return (.failed(StoppedEarly.failure(context.cancellation.reason, what: "SQL statement")), false)
        }
        let cancelRequest = connection.cancelRequest()
        if let pid = cancelRequest?.backendPID, pid > 0 { context.reportBackend(pid) }
        do {
            return try context.cancellation.whileRunning(interrupt: { _ = cancelRequest?.send() }) {
                try run(context, on: connection)
            }
        } catch let error as PostgresError where context.cancellation.isCancelled {
            return (.failed(StoppedEarly.failure(context.cancellation.reason, what: "SQL statement",
                                                 details: ["sqlstate": error.sqlState ?? ""])), false)
        } catch let error as PostgresError {
            // A bulk operation calls queuetop's functions: one missing from the schema this
            // connection resolved means the install moved (queuetop migrate); a fresh connection
            // finds it. (In function mode a missing function is the config's, so the job's fault.)
            let schemaMoved = mode == .bulkOperation && error.meansSchemaMoved
            healthy = !Self.isConnectionLost(error, on: connection) && !schemaMoved
            return (.failed(healthy ? Self.classify(error) : Self.connectionFailure(error)), pooled && !healthy)
        } catch let error as QueueStoreError {
            return (.failed(Self.classify(error)), false)
        } catch {
            return (.failed(HandlerFailure(message: String(describing: error), errorType: "sql_error", retryable: true)), false)
        }
    }

    private func run(_ context: JobContext, on connection: Connection) throws -> (outcome: JobOutcome, wasPooledConnectionLost: Bool) {
        switch mode {
        case let .function(name):
            // The timeout is set in the job's own transaction (SET LOCAL), never on the
            // session: behind a transaction pooler a session setting stays on the pooled
            // server connection and cuts other clients' statements short.
            // The function's value is the job's result: jsonb as is, other types through
            // to_jsonb, void as none. A set-returning function's first row.
            let rows = try connection.transaction { tx in
                try tx.setLocalStatementTimeout(timeout)
                return try tx.query("""
                    SELECT CASE WHEN pg_typeof(r) = 'void'::regtype THEN NULL ELSE to_jsonb(r) END
                    FROM (SELECT \(unsafeRaw: name)(\(JSONText(context.job.payload))::jsonb) AS r LIMIT 1) s
                    """)
            }
            let value = try rows.first?.decode(0, as: String?.self)
            return (value.map(JobOutcome.completedWithResult) ?? .completed, false)
        case .bulkOperation:
            return (try runBulk(context, connection: connection), false)
        }
    }

    /// libpq reports a socket closed by the server ("server closed the connection unexpectedly")
    /// as a failed result without SQLSTATE, sometimes before it marks the connection bad: every
    /// error from the server itself carries a SQLSTATE, so one without is the connection's.
    static func isConnectionLost(_ error: PostgresError, on connection: Connection) -> Bool {
        error.isConnectionProblem || !connection.isConnected || (error.kind == .query && error.sqlState == nil)
    }

    static func connectionFailure(_ error: PostgresError) -> HandlerFailure {
        HandlerFailure(message: error.description, errorType: "connection_error",
                       details: ["sqlstate": error.sqlState ?? ""], retryable: true)
    }

    private func runBulk(_ context: JobContext, connection: Connection) throws -> JobOutcome {
        guard let payload = JSONSupport.parseObject(context.job.payload),
              let operationID = number(payload["operation_id"]).map({ Int64($0) }) else {
            return .failed(.invalidPayload("a bulk operation job needs {\"operation_id\": N}"))
        }
        let batchSize = number(payload["batch_size"]).map { Int($0) }
        let result = try BulkOperationStore(connection: connection)
            .runUntilDone(operationID: operationID, batchSize: batchSize, statementTimeout: timeout) { _ in !context.cancellation.isCancelled }
        switch result.status {
        case .completed, .cancelled:
            return .completed
        case .failed:
            return .failed(HandlerFailure(message: "bulk operation \(operationID) failed (see bulk_operations.error)",
                                          errorType: "bulk_operation_failed", retryable: false))
        case .pending, .running:
            // Stopped early (worker shutdown): the released job resumes where the SQL left off.
            return .failed(HandlerFailure(message: "bulk operation \(operationID) interrupted", errorType: "cancelled", retryable: true))
        }
    }

    /// Bad data (class 22/23, P0002, raise_exception) is the payload's fault: DLQ. A statement
    /// timeout retries; anything else (locks, restarts) retries too.
    static func classify(_ error: PostgresError) -> HandlerFailure {
        let state = error.sqlState ?? ""
        let details: [String: any Sendable] = ["sqlstate": state]
        if error.isConnectionProblem { return connectionFailure(error) }
        if state == "57014" {
            return HandlerFailure(message: "SQL statement timed out: \(error.message)", errorType: "timeout", details: details, retryable: true)
        }
        if state.hasPrefix("22") || state.hasPrefix("23") || state == "P0001" || state == "P0002" || state == "42883" {
            return HandlerFailure(message: error.description, errorType: state.hasPrefix("22") ? "invalid_payload" : "sql_error",
                                  details: details, retryable: false)
        }
        return HandlerFailure(message: error.description, errorType: "sql_error", details: details, retryable: true)
    }

    static func classify(_ error: QueueStoreError) -> HandlerFailure {
        switch error {
        case .invalidInput, .notFound:
            return HandlerFailure(message: error.description, errorType: "invalid_payload", retryable: false)
        default:
            return HandlerFailure(message: error.description, errorType: "sql_error", retryable: true)
        }
    }

    private func checkout(fresh: Bool) throws -> (Connection, pooled: Bool) {
        if !fresh, let connection = idle.withLock({ $0.popLast() }) { return (connection, true) }
        return (try Connection.connect(database), false)
    }

    private func checkin(_ connection: Connection, healthy: Bool) {
        guard healthy else { connection.close(); return }
        idle.withLock { $0.append(connection) }
    }
}
