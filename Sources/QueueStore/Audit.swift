import Foundation
import Postgres

/// One operator action as `audit_log` records it.
public struct AuditEntry: Sendable, Equatable {
    public let id: Int64
    public let at: Date
    public let databaseRole: String
    public let actor: String?
    public let action: String
    public let filter: JSONText
    public let affected: Int64
}

public struct AuditStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// Newest first.
    public func list(limit: Int = 100, action: String? = nil) throws -> [AuditEntry] {
        let rows = try connection.run("""
            SELECT id, at, db_role, actor, action, filter, affected FROM \(qt: "audit_log")
            WHERE \(action)::text IS NULL OR action = \(action)
            ORDER BY id DESC LIMIT \(max(1, min(limit, 10000)))
            """)
        return try rows.map {
            AuditEntry(id: try $0.decode("id"), at: try $0.decode("at"), databaseRole: try $0.decode("db_role"),
                       actor: try $0.decode("actor"), action: try $0.decode("action"),
                       filter: try $0.decode("filter"), affected: try $0.decode("affected"))
        }
    }

    /// Opens one audit row for an action done in many batches; pass its id to each batch.
    public func begin(action: String, filter: JSONText) throws -> Int64 {
        try connection.run("SELECT \(qt: "record_audit")(\(action), \(filter)::jsonb, 0)").scalar()
    }
}
