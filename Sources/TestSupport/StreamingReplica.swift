import Foundation
import Postgres

/// A primary of a test's own (`PrivateCluster`, migrated) and a hot standby streaming from it
/// (`scripts/pg replica`: pg_basebackup -R over 127.0.0.1, run as `postgres` when root). Its own
/// primary, so pausing replay or filling the standby's log touches no other test.
public final class StreamingReplica: Sendable {
    public let primary: PrivateCluster
    /// The standby's cluster name (`.pg/NAME`).
    public let name: String
    /// The standby's `queuetop` database, for product code and the binary.
    public let config: ConnectionConfig
    public let url: String

    /// Starts the primary (`PREFIX-…`), migrates it, then the standby (`PREFIX-…-r`), and waits
    /// until the standby has replayed the install.
    public init(prefix: String = "standby") throws {
        primary = try PrivateCluster(prefix: prefix)
        name = primary.name + "-r"
        do {
            url = try PrivateCluster.pg(["replica", "--name", name, "--of", primary.name])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            config = try ConnectionConfig(url)
            try catchUp()
        } catch {
            _ = try? PrivateCluster.pg(["destroy", "--name", name])
            primary.destroy()
            throw error
        }
    }

    /// `config` for a test's own SQL on the standby (plain queuetop names).
    public var sqlConfig: ConnectionConfig { config.overriding("options", "-c search_path=queuetop,public") }

    /// The primary's address as the standby's WAL receiver names it (scripts/pg streams over TCP).
    public var primaryAddress: String {
        "127.0.0.1:" + (primary.config.endpoint.split(separator: ":").last.map(String.init) ?? "")
    }

    /// The standby's server log (the server writes every refused statement there).
    public var logPath: String {
        URL(fileURLWithPath: PrivateCluster.script).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".pg/\(name)/server.log").path
    }

    /// Waits until the standby has replayed everything the primary has written so far.
    public func catchUp(timeout: Double = 60) throws {
        let p = try Connection.connect(primary.config)
        defer { p.close() }
        let target = try p.query("SELECT pg_current_wal_lsn()::text").scalar(String.self)
        let s = try Connection.connect(config)
        defer { s.close() }
        let deadline = Date().addingTimeInterval(timeout)
        while try !s.query("SELECT pg_last_wal_replay_lsn() >= \(target)::pg_lsn").scalar(Bool.self) {
            guard Date() < deadline else {
                throw PostgresError(kind: .connection, message: "the standby \(name) did not replay up to \(target) in \(Int(timeout)) s")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// pg_wal_replay_pause() / pg_wal_replay_resume() on the standby (as the superuser).
    public func setReplayPaused(_ paused: Bool) throws {
        let s = try Connection.connect(config)
        defer { s.close() }
        try s.executeScript(paused ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()")
    }

    /// Stops and deletes the standby, then the primary.
    public func destroy() {
        _ = try? PrivateCluster.pg(["destroy", "--name", name])
        primary.destroy()
    }
}
