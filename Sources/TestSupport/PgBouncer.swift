import Foundation
import Postgres

/// A private PgBouncer (the Debian package `pgbouncer`, installed here when missing, as
/// scripts/lib/common.sh `qt_ensure_packages` does) in front of the suite's cluster
/// (DATABASE_URL): its own config, pid file and log in a temp folder, listening on a free
/// loopback port, in the given pool mode. It reaches the cluster over its Unix socket (trust
/// there, as scripts/pg sets it up) and lets clients in with `auth_type = trust` and a userlist
/// naming the cluster's role. PgBouncer refuses to run as root, so as root it runs as the
/// `postgres` system user. `stop()` ends it by the pid in its own pid file.
public final class PgBouncer: Sendable {
    public enum PoolMode: String, Sendable { case session, transaction }

    public let port: Int
    public let directory: String
    private let pidFile: String
    public var logFile: String { directory + "/pgbouncer.log" }

    public static let binary = "/usr/sbin/pgbouncer"

    /// - Parameter poolSize: `default_pool_size`: 1 makes every client share one server
    ///   connection (transaction mode), which is what shows session state leaking.
    /// - Parameter users: roles besides the admin that may log in through it (a non-superuser
    ///   owner, say); `auth_type = trust` still needs each name in the auth file.
    public init(mode: PoolMode, poolSize: Int = 1, users: [String] = []) throws {
        try Self.ensureInstalled()
        let admin = try TestDatabase.adminConfig()
        let conn = try Connection.connect(admin)
        let row = try conn.query("""
            SELECT split_part(current_setting('unix_socket_directories'), ',', 1) AS dir,
                   current_setting('port') AS port, current_user::text AS role
            """).first!
        let socketDir = try row.decode("dir", as: String.self).trimmingCharacters(in: .whitespaces)
        let serverPort = try row.decode("port", as: String.self)
        let role = try row.decode("role", as: String.self)
        conn.close()

        port = try Self.freePort()
        directory = NSTemporaryDirectory() + "qt-pgbouncer-" + UUID().uuidString.lowercased().prefix(8)
        pidFile = directory + "/pgbouncer.pid"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ini = """
            [databases]
            * = host=\(socketDir) port=\(serverPort)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = trust
            auth_file = \(directory)/userlist.txt
            pool_mode = \(mode.rawValue)
            default_pool_size = \(poolSize)
            min_pool_size = 0
            reserve_pool_size = 0
            max_client_conn = 500
            max_db_connections = \(mode == .transaction ? poolSize : 0)
            ignore_startup_parameters = extra_float_digits,options
            logfile = \(logFile)
            pidfile = \(pidFile)
            admin_users = \(role)

            """
        try ini.write(toFile: directory + "/pgbouncer.ini", atomically: true, encoding: .utf8)
        try ([role] + users).map { "\"\($0)\" \"\"\n" }.joined()
            .write(toFile: directory + "/userlist.txt", atomically: true, encoding: .utf8)
        let asRoot = geteuid() == 0
        if asRoot { _ = try QueuetopBinary.output(of: "/usr/bin/chown", ["-R", "postgres:postgres", directory]) }
        // In the foreground (a daemon's exit confuses Foundation's Process); `stop()` ends it by
        // the pid it writes to its pid file, and runuser exits with it.
        let arguments = asRoot ? ["-u", "postgres", "--", Self.binary, directory + "/pgbouncer.ini"]
                               : [directory + "/pgbouncer.ini"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: asRoot ? "/usr/sbin/runuser" : Self.binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts a connection.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let c = try? Connection.connect(config(admin)) { c.close(); return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "(no log)"
        stop()
        try? FileManager.default.removeItem(atPath: directory)
        throw PostgresError(kind: .connection, message: "pgbouncer did not start on port \(port): \(log.suffix(2000))")
    }

    /// `base` (a test database's config, say) reached through this PgBouncer instead.
    public func config(_ base: ConnectionConfig) -> ConnectionConfig {
        base.overriding("host", "127.0.0.1").overriding("port", String(port)).overriding("sslmode", "disable")
    }

    public func stop() {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while kill(pid, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Installs the Debian package when the binary is missing (as root, or through sudo).
    static func ensureInstalled() throws {
        if FileManager.default.isExecutableFile(atPath: binary) { return }
        let sudo = geteuid() == 0 ? [] : ["sudo"]
        for args in [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "pgbouncer"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = sudo + ["DEBIAN_FRONTEND=noninteractive"] + args
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw PostgresError(kind: .connection, message: "pgbouncer is not installed and apt-get could not install it")
        }
    }

    /// A loopback port nothing listens on right now (bound to port 0, read back, closed).
    static func freePort() throws -> Int {
        guard let (fd, port) = try? LoopbackSocket.listen() else {
            throw PostgresError(kind: .connection, message: "cannot find a free port")
        }
        close(fd)
        return port
    }
}
