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
    /// A write asked of a hot standby (`ServerRoleStore.refuseWritesOnStandby`): says where the primary is.
    case readOnlyStandby(String)
    /// Anything else the database reported.
    case database(String)

    public var description: String {
        switch self {
        case .invalidInput(let m), .notFound(let m), .conflict(let m), .permissionDenied(let m), .readOnlyStandby(let m),
             .database(let m):
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
            return permissionDenied(error, leastRole: nil)
        default:
            return .database(error.description)
        }
    }
}

extension QueueStoreError {
    /// queuetop's group roles, least privileged first (docs/SQL_LAYOUT.md, "Roles").
    static let rolesLeastFirst = ["queuetop_viewer", "queuetop_producer", "queuetop_operator", "queuetop_worker"]

    /// True for PostgreSQL's own privilege check ("permission denied for table x"), false for a
    /// 42501 that queuetop's SQL raises itself (an audit row that is not the caller's), whose
    /// message and hint already say what to do and which no other role would fix.
    static func isPrivilegeCheck(_ error: PostgresError) -> Bool {
        error.sqlState == "42501" && error.message.hasPrefix("permission denied for ")
    }

    /// A 42501 in words to act on. For PostgreSQL's privilege check the hint names the least
    /// role that may do what was refused, when the caller worked it out (`leastRole`), else the
    /// roles by what each may do; a reader should not be sent to ask for operator rights.
    static func permissionDenied(_ error: PostgresError, leastRole: String?) -> QueueStoreError {
        guard isPrivilegeCheck(error) else { return .permissionDenied(error.description) }
        let hint = leastRole.map { "connect as a member of \($0)" }
            ?? "connect as a member of the queuetop role for it: queuetop_viewer to read, queuetop_producer to enqueue, "
               + "queuetop_operator for operator actions, queuetop_worker for workers"
        return .permissionDenied("permission denied: \(error.message) (this database role may not do that; \(hint))")
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
            if QueueStoreError.isPrivilegeCheck(error) {
                throw QueueStoreError.permissionDenied(error, leastRole: leastRole(for: statement))
            }
            throw QueueStoreError.from(error)
        }
    }

    /// The least privileged of queuetop's roles that may use every queuetop object `statement`
    /// names (`\(qt: "name")`: EXECUTE on functions, SELECT on tables and views), read from the
    /// catalog as installed, so the hint follows 90_privileges.sql. nil when the statement names
    /// none, no role may do it all, or the lookup cannot run (an aborted transaction).
    func leastRole(for statement: Query) -> String? {
        var names: [String] = []
        var current: String?
        for character in statement.sql.unicodeScalars {
            if character == "\u{1A}" {  // Query's placeholder for the schema of a \(qt:) name
                if let name = current, !name.isEmpty { names.append(name) }
                current = ""
            } else if current != nil, ("a"..."z").contains(character)
                        || character == "_" || ("0"..."9").contains(character) {
                current!.unicodeScalars.append(character)
            } else {
                if let name = current, !name.isEmpty { names.append(name) }
                current = nil
            }
        }
        if let name = current, !name.isEmpty { names.append(name) }
        guard !names.isEmpty else { return nil }
        let roles = QueueStoreError.rolesLeastFirst.joined(separator: ",")
        let list = Array(Set(names)).sorted().joined(separator: ",")
        return try? query("""
            WITH s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = \(schema))
            SELECT g.r FROM unnest(string_to_array(\(roles), ',')) WITH ORDINALITY AS g(r, o)
            WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = g.r)
              AND pg_catalog.has_schema_privilege(g.r, (SELECT oid FROM s), 'USAGE')
              AND NOT EXISTS (
                SELECT 1 FROM unnest(string_to_array(\(list), ',')) AS n(name)
                WHERE NOT coalesce(
                  (SELECT bool_or(pg_catalog.has_function_privilege(g.r, p.oid, 'EXECUTE')) FROM pg_catalog.pg_proc p
                    WHERE p.pronamespace = (SELECT oid FROM s) AND p.proname = n.name),
                  (SELECT pg_catalog.has_table_privilege(g.r, c.oid, 'SELECT') FROM pg_catalog.pg_class c
                    WHERE c.relnamespace = (SELECT oid FROM s) AND c.relname = n.name AND c.relkind IN ('r', 'v', 'm', 'p', 'f')),
                  true))
            ORDER BY g.o LIMIT 1
            """).first?.decode(0, as: String.self)
    }
}
