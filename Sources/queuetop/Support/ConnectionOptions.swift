import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `--db` and `--schema`, shared by every command that talks to Postgres.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL connection URI or conninfo string (default: $DATABASE_URL, then libpq's PG* defaults).",
        valueName: "url"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp(
        "Schema that holds queuetop's objects (default: $QUEUETOP_SCHEMA, else `queuetop`, or `public` for an install from before 0013).",
        valueName: "name"))
    var schema: String?

    /// The connection and the schema; a malformed URI or schema name fails here, before any SQL.
    /// Every connection names the OS user and host in `application_name`, which audit rows keep
    /// as their client label (`OperatorIdentity.applicationName`).
    func config() throws -> ConnectionConfig {
        do {
            var config = try ConnectionConfig.resolve(explicit: db, schema: schema, environment: ProcessInfo.processInfo.environment)
            config.applicationName = OperatorIdentity.applicationName()
            return config
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }

    /// Connects; a connection failure is one safe line.
    func connect() throws -> Connection {
        do {
            return try Connection.connect(try config())
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }

    /// `connect()` for a command that writes: on a hot standby it stops here, before anything
    /// is sent, with "this is a read-only standby; connect to the primary (host:port)" instead
    /// of the server's "cannot execute INSERT in a read-only transaction" halfway through.
    /// Every writing command connects through this (or calls `refuseStandby` on its own link).
    func connectToWrite() throws -> Connection {
        let conn = try connect()
        do {
            try Self.refuseStandby(conn)
        } catch {
            conn.close()
            throw error
        }
        return conn
    }

    /// The write guard alone, for commands that open their connections themselves (`migrate`,
    /// `worker`, `demo produce`).
    static func refuseStandby(_ conn: Connection) throws {
        try cliErrors { try ServerRoleStore(connection: conn).refuseWritesOnStandby() }
    }

    /// The guard on a short connection of its own, for commands whose connections are made
    /// later by something else (the worker pool, the demo producer).
    func refuseStandby() throws {
        try connectToWrite().close()
    }
}

/// A one-line error for the terminal: what was wrong and what to do. ArgumentParser prints it as
/// "Error: …" and exits 1; no stack trace, never a password. It often quotes a server's or a
/// handler's message, so it is kept to one safe line (`SafeText.oneLine`).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = SafeText.oneLine(description) }
}
