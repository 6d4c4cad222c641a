import Foundation
import Postgres

/// One operator action as `audit_log` records it.
public struct AuditEntry: Sendable, Equatable {
    public let id: Int64
    public let at: Date
    public let databaseRole: String
    /// Who acted: the database login role (since 0014; older rows said what the client claimed).
    public let actor: String?
    public let action: String
    public let filter: JSONText
    public let affected: Int64
    /// What the client said about itself (the OS `user@host` the CLI and dashboard send in
    /// `queuetop.actor`): unverified, any client can send anything; never the actor.
    public let clientLabel: String?

    public init(id: Int64, at: Date, databaseRole: String, actor: String?, action: String, filter: JSONText,
                affected: Int64, clientLabel: String? = nil) {
        self.id = id; self.at = at; self.databaseRole = databaseRole; self.actor = actor
        self.action = action; self.filter = filter; self.affected = affected; self.clientLabel = clientLabel
    }

    /// The actor as screens show it: "alice (claims alice@laptop)" when the client named itself.
    /// The CLI and the dashboard send "queuetop user@host" (`OperatorIdentity.applicationName`);
    /// the "queuetop " is which program, not who, and would push the claim itself out of an
    /// 80-column audit screen, so it is left out. Any other label is shown as sent.
    public var actorDescription: String? {
        guard let label = clientLabel, label != actor else { return actor }
        let claim = label.hasPrefix(Self.queuetopClientPrefix) && label.count > Self.queuetopClientPrefix.count
            ? String(label.dropFirst(Self.queuetopClientPrefix.count)) : label
        return "\(actor ?? databaseRole) (claims \(claim))"
    }

    /// What `OperatorIdentity.applicationName` puts before `user@host`.
    static let queuetopClientPrefix = "queuetop "
}

public struct AuditStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// Newest first, by the time of the action (then by id): ids are the order rows were
    /// written, and a row written with its own time (the demo's back-dated history, an import)
    /// would otherwise put "27m ago" above "now" on a list that says newest first.
    public func list(limit: Int = 100, action: String? = nil) throws -> [AuditEntry] {
        let rows = try connection.run("""
            SELECT id, at, db_role, actor, action, filter, affected, client_label FROM \(qt: "audit_log")
            WHERE \(action)::text IS NULL OR action = \(action)
            ORDER BY at DESC, id DESC LIMIT \(max(1, min(limit, 10000)))
            """)
        return try rows.map {
            AuditEntry(id: try $0.decode("id"), at: try $0.decode("at"), databaseRole: try $0.decode("db_role"),
                       actor: try $0.decode("actor"), action: try $0.decode("action"),
                       filter: try $0.decode("filter"), affected: try $0.decode("affected"),
                       clientLabel: try $0.decode("client_label"))
        }
    }

    /// Opens one audit row for an action done in many batches; pass its id to each batch.
    public func begin(action: String, filter: JSONText) throws -> Int64 {
        try connection.run("SELECT \(qt: "record_audit")(\(action), \(filter)::jsonb, 0)").scalar()
    }
}
