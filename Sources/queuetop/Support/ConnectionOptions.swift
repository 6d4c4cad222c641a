import ArgumentParser
import Contexts
import Foundation
import Postgres
import QueueStore

/// `--db`, `--schema`, `--context` and `--contexts`, shared by every command that talks to
/// Postgres: the one place where "which database" is decided (docs/SCALING.md, "Contexts").
///
/// `--context NAME` takes the database from the contexts file instead of `--db`/`DATABASE_URL`.
/// Reads (`connect`, `readConfig`) go to the context's replica when it has one; writes and
/// actions (`connectToWrite`, `writeConfig`) go to its primary, and a context with only a
/// replica refuses them, naming itself.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL connection URI or conninfo string (default: $DATABASE_URL, then libpq's PG* defaults).",
        valueName: "url"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp(
        "Schema that holds queuetop's objects (default: $QUEUETOP_SCHEMA, else `queuetop`, or `public` for an install from before 0013).",
        valueName: "name"))
    var schema: String?

    @Option(name: .long, help: ArgumentHelp(
        "Use the database named NAME in the contexts file instead of --db/$DATABASE_URL (docs/SCALING.md).",
        valueName: "name"))
    var context: String?

    @Option(name: .long, help: ArgumentHelp(
        "The contexts file (default: $QUEUETOP_CONTEXTS, else ~/.config/queuetop/contexts.toml).",
        valueName: "file"))
    var contexts: String?

    func validate() throws {
        if context != nil, let db, !db.isEmpty {
            throw ValidationError("give --db or --context, not both")
        }
    }

    /// The contexts file, which must exist (`--context`, `--all-contexts`, `--group`, `contexts list`).
    func contextsFile() throws -> ContextsFile {
        try contextErrors { try ContextsLocation.load(explicit: contexts, environment: ProcessInfo.processInfo.environment) }
    }

    /// The file when one was named or the default one exists, else nil (the dashboard's `:ctx`).
    func contextsFileIfPresent() throws -> ContextsFile? {
        try contextErrors { try ContextsLocation.loadIfPresent(explicit: contexts, environment: ProcessInfo.processInfo.environment) }
    }

    /// The context `--context` names, or nil without the option.
    func selectedContext() throws -> ContextDefinition? {
        guard let context else { return nil }
        return try contextErrors { try contextsFile().context(named: context) }
    }

    /// Where reads go: `--context`'s replica when it has one, else its primary, else `--db`,
    /// `DATABASE_URL`, libpq's defaults. Malformed strings fail here, before any SQL.
    func readConfig() throws -> ConnectionConfig {
        try resolve(try selectedContext().map { context in try contextErrors { try context.readConnection() } })
    }

    /// Where writes go: the context's primary (refused for a replica-only context), else as
    /// `readConfig`. Every connection names the OS user and host in `application_name`, which
    /// audit rows keep as their client label (`OperatorIdentity.applicationName`).
    func writeConfig() throws -> ConnectionConfig {
        try resolve(try selectedContext().map { context in try contextErrors { try context.writeConnection() } })
    }

    /// A context's connection with this command's `--schema` (else the context's `schema`,
    /// else `QUEUETOP_SCHEMA`) and application name: for commands that visit several contexts.
    func config(for context: ContextDefinition, write: Bool) throws -> ConnectionConfig {
        var config = try contextErrors { write ? try context.writeConnection() : try context.readConnection() }
        try finish(&config, contextSchema: context.schema)
        return config
    }

    private func resolve(_ contextConfig: ConnectionConfig?) throws -> ConnectionConfig {
        do {
            if var config = contextConfig {
                try finish(&config, contextSchema: try selectedContext()?.schema)
                return config
            }
            var config = try ConnectionConfig.resolve(explicit: db, schema: schema, environment: ProcessInfo.processInfo.environment)
            config.applicationName = OperatorIdentity.applicationName()
            return config
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }

    private func finish(_ config: inout ConnectionConfig, contextSchema: String?) throws {
        do {
            config.schema = try SchemaChoice.resolve(explicit: schema ?? contextSchema, environment: ProcessInfo.processInfo.environment)
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
        config.applicationName = OperatorIdentity.applicationName()
    }

    /// Connects for reading (the replica of a context that has one); a failure is one safe line.
    func connect() throws -> Connection {
        try open(try readConfig())
    }

    private func open(_ config: ConnectionConfig) throws -> Connection {
        do {
            return try Connection.connect(config)
        } catch let error as PostgresError {
            throw CLIError((context.map { "context \($0): " } ?? "") + error.description)
        }
    }

    /// Connects for a command that writes: to the primary, and on a hot standby it stops here,
    /// before anything is sent, with "this is a read-only standby; connect to the primary
    /// (host:port)" instead of the server's "cannot execute INSERT in a read-only transaction"
    /// halfway through. Every writing command connects through this (or calls `refuseStandby`
    /// on its own link).
    func connectToWrite() throws -> Connection {
        let conn = try open(try writeConfig())
        do {
            try Self.refuseStandby(conn)
        } catch {
            conn.close()
            throw error
        }
        return conn
    }

    /// `connectToWrite` to a context chosen by the command (`enqueue --group`), not by `--context`.
    func connectToWrite(context: ContextDefinition) throws -> Connection {
        let conn: Connection
        do {
            conn = try Connection.connect(try config(for: context, write: true))
        } catch let error as PostgresError {
            throw CLIError("context \(context.name): " + error.description)
        }
        do { try Self.refuseStandby(conn) } catch { conn.close(); throw error }
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

/// A contexts-file problem as the CLI's one-line error.
func contextErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ContextsFileError { throw CLIError(error.description) }
}

/// A one-line error for the terminal: what was wrong and what to do. ArgumentParser prints it as
/// "Error: …" and exits 1; no stack trace, never a password. It often quotes a server's or a
/// handler's message, so it is kept to one safe line (`SafeText.oneLine`).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = SafeText.oneLine(description) }
}
