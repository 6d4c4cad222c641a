import Foundation
import Postgres
import QueueStore

/// A PostgreSQL cluster of a test's own (scripts/pg, `.pg/NAME` in the project), for fault tests
/// that restart or crash the server: the suite's shared cluster serves every other test at the
/// same moment and must never go down.
///
/// Synchronous commit stays on (not scripts/pg `--fast`): an immediate shutdown is a crash, and
/// asynchronous commit would lose acknowledged commits still in WAL buffers, a fault of the test
/// setup, not of queuetop. fsync is turned off: the server process crashes, the OS does not, so
/// what was written to the OS survives, and the test does not wait on the shared disk.
public final class PrivateCluster: Sendable {
    public let name: String
    /// The migrated `queuetop` database of this cluster.
    public let config: ConnectionConfig
    public let url: String
    /// `config` for a test's own SQL, which names queuetop's objects plainly: the session looks
    /// in `queuetop`, then `public` (an install from before 0013). Product code gets `config`.
    public var sqlConfig: ConnectionConfig { config.overriding("options", "-c search_path=queuetop,public") }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg").path
    }

    /// Starts (initdb first) a cluster named `chaos-…` and applies the migrations.
    public init(prefix: String = "chaos") throws {
        name = "\(prefix)-\(UUID().uuidString.lowercased().prefix(8))"
        url = try Self.pg(["start", "--name", name]).trimmingCharacters(in: .whitespacesAndNewlines)
        config = try ConnectionConfig(url)
        let conn = try Connection.connect(config)
        defer { conn.close() }
        try conn.executeScript("ALTER SYSTEM SET fsync = off")
        try conn.executeScript("SELECT pg_reload_conf()")
        try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn)
    }

    public enum ShutdownMode: String, Sendable { case fast, immediate }

    /// Restarts the server on the same port; `.immediate` is a crash (no checkpoint, recovery on start).
    public func restart(_ mode: ShutdownMode) throws {
        _ = try Self.pg(["restart", "--name", name, "--mode", mode.rawValue])
    }

    /// Stops the server (fast shutdown) and leaves it down until `start`: an outage, not a blip.
    public func stop() throws {
        _ = try Self.pg(["stop", "--name", name])
    }

    /// Starts a stopped server again on its old port, so clients holding the URL reconnect to it
    /// (scripts/pg start would otherwise pick the first free port from 54400).
    public func start() throws {
        let port = String(config.endpoint.split(separator: ":").last ?? "")
        _ = try Self.pg(["start", "--name", name], environment: ["QT_PG_PORT": port])
    }

    /// Stops the server and deletes its folder.
    public func destroy() {
        _ = try? Self.pg(["destroy", "--name", name])
    }

    /// Runs scripts/pg and returns its stdout; throws with its stderr when it fails.
    @discardableResult
    static func pg(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        // Extra variables go through env(1) rather than Process.environment, so the script (and
        // the server it starts) inherit this process's environment exactly as before. Observed,
        // cause not pinned down: with Process.environment set to ProcessInfo's copy, the restart
        // chaos test's median pickup after a restart was 6-7 s in 2 runs of 2 (< 0.3 s expected);
        // inheriting, it passed in 3 of 3.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + ["/bin/bash", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresError(kind: .connection, message:
                "scripts/pg \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}
