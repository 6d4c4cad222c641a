import Foundation
import Postgres

/// A private cluster (`PrivateCluster`) that clients reach over TCP through a `SlowProxy`, for
/// tests of slow and frozen links. The cluster trusts its socket but wants a password over TCP,
/// the proxy's way in, so the role gets a password of the test's own.
public final class ProxiedCluster: Sendable {
    public let cluster: PrivateCluster
    public let proxy: SlowProxy
    /// A conninfo string through the proxy, password included: hand it to the binary through
    /// its environment or `--db`, never print it.
    public let conninfo: String

    public init(prefix: String, delay: TimeInterval = 0) throws {
        cluster = try PrivateCluster(prefix: prefix)
        do {
            let direct = try Connection.connect(cluster.config)
            defer { direct.close() }
            let password = "link-\(UUID().uuidString.prefix(8))"
            try direct.execute(Query(unsafeSQL: "ALTER ROLE postgres PASSWORD '\(password)'"))
            let upstream = Int(cluster.config.endpoint.split(separator: ":").last ?? "") ?? 0
            proxy = try SlowProxy(upstreamPort: upstream, delay: delay)
            conninfo = try cluster.config.overriding("host", "127.0.0.1").overriding("port", String(proxy.port))
                .overriding("password", password).unredactedConninfo()
        } catch {
            cluster.destroy()
            throw error
        }
    }

    /// A connection straight to the cluster (its socket), for the test's own checks.
    public func direct() throws -> Connection { try Connection.connect(cluster.sqlConfig) }

    public func destroy() {
        proxy.stop()
        cluster.destroy()
    }
}
