import Foundation
import Postgres

/// A LOGIN role that is a member of one of queuetop's group roles (`queuetop_viewer`,
/// `queuetop_operator`, `queuetop_worker`, migration 0007), for tests that connect as a
/// person or service of that kind and show what the database itself allows.
///
/// Roles are cluster-wide and the suite's tests share one cluster, so every name is unique and
/// the role is dropped at the end. The test cluster trusts local socket connections, so no
/// password is needed.
public extension TestDatabase {
    /// Runs `body` with a connection config for a fresh login role in `group`, then drops the
    /// role (after terminating whatever connections the body left open).
    func withLoginRole<T>(in group: String, _ body: (_ config: ConnectionConfig, _ roleName: String) throws -> T) throws -> T {
        let roleName = "qt_login_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
        let admin = try connect()
        defer { admin.close() }
        // Identifiers cannot be bind parameters; both names come from this file and the test.
        try admin.executeScript("CREATE ROLE \"\(roleName)\" LOGIN IN ROLE \"\(group)\"")
        defer {
            _ = try? admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(roleName)")
            _ = try? admin.executeScript("DROP ROLE IF EXISTS \"\(roleName)\"")
        }
        return try body(config.overriding("user", roleName), roleName)
    }
}
