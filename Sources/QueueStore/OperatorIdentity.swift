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

    /// What a queuetop client calls itself to the server (`application_name`): shown in
    /// pg_stat_activity, and stored with every audit row as its unverified `client_label`.
    ///
    /// A startup parameter, not a session setting, on purpose: PgBouncer and Supavisor keep it
    /// per client and set it on whichever server connection the client is given, so behind a
    /// transaction pooler it never outlives the client's transaction or reaches another client.
    /// (A session `set_config('queuetop.actor', …)` did both.) The server keeps 63 bytes; the
    /// cut here falls on a character boundary so the label stays valid text.
    public static func applicationName(actor: String = current) -> String {
        var name = AuditEntry.queuetopClientPrefix + actor
        while name.utf8.count > 63 { name.removeLast() }
        return name
    }
}

extension AuditStore {
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
