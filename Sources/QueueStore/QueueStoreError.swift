import Postgres

/// What went wrong, in words an operator can act on. Every case says what was wrong and, where
/// it helps, what to do; none carries a connection password.
public enum QueueStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input was refused before anything changed (bad JSON, batch size, unknown queue…).
    case invalidInput(String)
    /// The thing named does not exist (job id, queue, run).
    case notFound(String)
    /// The request conflicts with the current state (requeue of a job that is not dead_letter…).
    case conflict(String)
    /// The database role may not do this (read-only viewer).
    case permissionDenied(String)
    case migrationFailed(file: String, reason: String)
    /// Anything else the database reported.
    case database(String)

    public var description: String {
        switch self {
        case .invalidInput(let m), .notFound(let m), .conflict(let m), .permissionDenied(let m), .database(let m):
            return m
        case .migrationFailed(let file, let reason):
            return "migration \(file) failed and was rolled back: \(reason)"
        }
    }

    /// Maps a server error to the case an operator needs, keeping the server's own words.
    /// Functions in migrations/ raise with these SQLSTATEs on purpose:
    /// 22023 invalid_parameter_value, P0002 no_data_found, 55000 object_not_in_prerequisite_state.
    public static func from(_ error: PostgresError) -> QueueStoreError {
        switch error.sqlState {
        case "22023", "22P02", "22003", "23514", "54000", "22004", "22007", "22008", "2201W", "2201X":
            return .invalidInput(error.description)
        case "P0002":
            return .notFound(error.description)
        case "55000", "55P03", "40001":
            return .conflict(error.description)
        case "42501":
            return .permissionDenied("permission denied: \(error.message) (this database role may not do that; connect as queuetop_operator)")
        default:
            return .database(error.description)
        }
    }
}

extension Connection {
    /// Runs a statement, turning server errors into `QueueStoreError`s an operator can act on.
    /// Connection problems and `meansSchemaMoved` errors stay `PostgresError`s: long-lived
    /// callers reconnect on them (and so find a schema `queuetop migrate` moved).
    @discardableResult
    public func run(_ statement: Query) throws -> QueryResult {
        do {
            return try query(statement)
        } catch let error as PostgresError where !error.isConnectionProblem && !error.meansSchemaMoved {
            throw QueueStoreError.from(error)
        }
    }
}
