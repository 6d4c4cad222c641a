import Foundation
import Postgres

/// `user@host` of the person running queuetop, recorded with every operator action.
public enum OperatorIdentity {
    public static var current: String {
        let user: String
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name {
            user = String(cString: name)
        } else {
            user = ProcessInfo.processInfo.environment["USER"] ?? "uid\(geteuid())"
        }
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}

extension AuditStore {
    /// Tells the server who is acting on this session: the operator functions write the audit
    /// rows themselves and read the actor from `queuetop.actor` (docs/DESIGN.md), so every
    /// client that acts — CLI or dashboard — must call this once per new connection.
    public func identify(actor: String = OperatorIdentity.current) throws {
        try connection.run("SELECT set_config('queuetop.actor', \(actor), false)")
    }

    /// Whether this session may run operator actions: a writable server (not a standby, not
    /// default_transaction_read_only) and a role that may execute the operator functions (every
    /// write goes through them; see `QueueConfigStore.canOperate`). The dashboard opens read-only
    /// when it may not, instead of offering keys that would fail with "permission denied".
    public func mayAct() throws -> Bool {
        let writable = try connection.run(
            "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'").scalar(Bool.self)
        return try writable && QueueConfigStore(connection: connection).canOperate()
    }
}
