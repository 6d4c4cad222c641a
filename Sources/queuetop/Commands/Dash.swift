import ArgumentParser
import Contexts
import Curses
import Dashboard
import DashboardRuntime
import Foundation
import Logging
import Postgres
import QueuetopLogging
import QueueStore
import Workers
#if canImport(Glibc)
import Glibc
#endif

/// `queuetop dash` (and plain `queuetop`): the live console, with the worker pool embedded.
struct DashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dash",
        abstract: "Open the dashboard: live queue health, DLQ triage and operator actions (the default command).",
        discussion: HelpText.reflow("""
            Runs the worker pool in the same process unless --no-workers or read-only (worker options as for
            `queuetop worker`; worker log lines go to --worker-log, since the terminal belongs to the
            dashboard). The database must be reachable at start: otherwise queuetop says why and exits 1
            before touching the terminal. Once open, an outage shows "disconnected — retrying in Ns" over
            the last data, and recovery is automatic. Standard input and output must be a terminal
            (exit 2 otherwise; use `queuetop status` in scripts). Q, SIGTERM or SIGHUP restore the
            terminal first, then stop the workers gracefully (--grace) and exit 0.
            The dashboard is read-only with --read-only, or when the database role may not act (a
            viewer) or the server is a standby: then it runs no workers and writes nothing, and it
            says why when it opens.
            """))

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var pool: WorkerPoolOptions

    @Flag(name: .long, help: "Do not run workers in this process (only watch and act).")
    var noWorkers = false

    @Flag(name: .long, help: "Allow no action and run no workers; the database sessions are read-only too.")
    var readOnly = false

    @Option(name: .long, help: ArgumentHelp("Seconds between refreshes, 0.5 to 60 (change live with [ and ]).", valueName: "seconds"))
    var refresh: Double = 2

    @Option(name: .long, help: ArgumentHelp("Append the embedded workers' log lines to this file (default: discarded).", valueName: "file"))
    var workerLog: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (DashboardState.minimumInterval...DashboardState.maximumInterval).contains(refresh) else {
            throw ValidationError("--refresh must be between 0.5 and 60 seconds, got \(refresh)")
        }
    }

    func run() throws {
        // Before anything else: a dashboard without a terminal is a mistake, not an outage.
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            FileHandle.standardError.write(Data("Error: \(TerminalError.notATerminal.description)\n".utf8))
            throw ExitCode(2)
        }
        signal(SIGPIPE, SIG_IGN)  // a handler's child closing its stdin early must not kill us
        unblockSignals([SIGHUP, SIGTERM, SIGINT, SIGWINCH])
        let databases = try DashDatabases.resolve(connection)
        let contextsFile = try connection.contextsFileIfPresent()
        let start = try DashStartup.check(databases, readOnlyFlag: readOnly)
        // Read-only is read-only: no embedded pool (it claims, completes and fails jobs).
        // The embedded pool's events are kept for the Log screen (8), and written to
        // --worker-log too when given. A pool that cannot start (a bad handler config) does not
        // stop the dashboard: the reason is in the footer and on the Log screen.
        let poolLog = LogRing(capacity: 1_000)
        var poolStartupError: String?
        var workers: WorkerPool?
        if !(noWorkers || start.readOnly) {
            do {
                // On the context the dashboard opened on, for the whole session: a `:ctx`
                // switch moves what the operator watches, never where jobs run.
                workers = try startPool(databases.primary, ring: poolLog)
            } catch let error as WorkerConfigRefused {
                poolStartupError = error.reason
            }
        }
        // From here the terminal belongs to curses: a server notice goes to the worker log
        // (startPool), or nowhere, never onto the screen.
        if workers == nil { Notices.setHandler(Notices.discard) }
        let terminal: Terminal
        do {
            terminal = try Terminal()
        } catch {
            workers?.stop(grace: pool.grace)
            throw CLIError("cannot open the terminal: \(error)")
        }
        let session = DashSession(databases: databases, contexts: contextsFile, options: connection,
                                  poolContext: workers == nil ? nil : databases.contextName, terminal: terminal, readOnly: start.readOnly,
                                  readOnlyReason: start.readOnlyReason, refreshInterval: refresh, initial: start.snapshot,
                                  standby: start.standby, poolLog: poolLog, poolStartupError: poolStartupError)
        let signal = session.run()
        // The terminal comes back first: the operator sees their shell while workers drain.
        terminal.restore()
        if let workers {
            if signal != .hangup {  // after a hang-up there is nobody to read it
                FileHandle.standardError.write(Data("queuetop: stopping the workers (running jobs get up to \(Int(pool.grace)) s)…\n".utf8))
            }
            workers.stop(grace: pool.grace)
            workers.waitUntilStopped()
        }
        session.close()
    }

    /// The handler config was refused: the dashboard runs without workers and says why.
    struct WorkerConfigRefused: Error { let reason: String }

    private func startPool(_ database: ConnectionConfig, ring: LogRing) throws -> WorkerPool {
        let handle: FileHandle?
        if let workerLog {
            guard FileManager.default.fileExists(atPath: workerLog) || FileManager.default.createFile(atPath: workerLog, contents: nil),
                  let file = FileHandle(forWritingAtPath: workerLog) else {
                throw CLIError("cannot write the worker log \(workerLog): check the path and its permissions")
            }
            file.seekToEndOfFile()
            handle = file
        } else {
            handle = nil
        }
        let log = logging.logger("queuetop.dash.workers", to: handle, also: [ring])
        Notices.setHandler { notice in log.warning("server \(notice)") }
        let workers: WorkerPool
        do {
            workers = try pool.makePool(database: database, logger: log)
        } catch let error as CLIError {
            log.error("the embedded workers did not start: \(error.description)")
            throw WorkerConfigRefused(reason: error.description)
        }
        do {
            try workers.start()
        } catch let error as PostgresError {
            throw CLIError("cannot start the embedded workers: \(error.description) (or run with --no-workers)")
        }
        return workers
    }
}

/// What the dashboard needs to know before it takes over the terminal, checked with one
/// short-lived connection so every startup problem is a plain message on a normal terminal.
enum DashStartup {
    struct Result {
        var snapshot: HealthSnapshot
        var readOnly: Bool
        /// Why the dashboard is read-only when the operator did not ask for it (a viewer role, a
        /// standby, a read-only session); nil otherwise.
        var readOnlyReason: String?
        /// The server is a hot standby (nil: a primary): the first frame already says so.
        var standby: StandbyStatus?
    }

    static func check(_ databases: DashDatabases, readOnlyFlag: Bool) throws -> Result {
        let database = databases.reads
        let conn: Connection
        let on = databases.contextName.map { " of context \($0)" } ?? ""
        do {
            conn = try Connection.connect(database)
        } catch let error as PostgresError {
            throw CLIError("cannot reach the database\(on): \(error.description)")
        }
        defer { conn.close() }
        let snapshot: HealthSnapshot
        do {
            // The snapshot folds pending counter deltas, a write, unless its transaction is
            // read-only: with --read-only it is.
            snapshot = try readOnlyFlag
                ? conn.transaction { c in
                    _ = try c.execute("SET TRANSACTION READ ONLY")
                    return try HealthStore(connection: c).snapshot(types: .none).snapshot
                }
                : HealthStore(connection: conn).snapshot(types: .none).snapshot
        } catch {
            throw CLIError("cannot read queue health from \(database.redacted): \(error) — is the schema installed? run `queuetop migrate`")
        }
        let standby = try cliErrors { try ServerRoleStore(connection: conn).standby() }
        if readOnlyFlag { return Result(snapshot: snapshot, readOnly: true, readOnlyReason: nil, standby: standby) }
        if let reason = databases.readOnlyReason { return Result(snapshot: snapshot, readOnly: true, readOnlyReason: reason, standby: standby) }
        // Reads from a context's replica, actions on its primary: the primary says whether we may act.
        if let actions = databases.actions {
            let primary: Connection
            do { primary = try Connection.connect(actions) } catch let error as PostgresError {
                throw CLIError("cannot reach the primary\(on): \(error.description)")
            }
            defer { primary.close() }
            return try permission(primary, snapshot: snapshot, standby: standby)
        }
        return try permission(conn, snapshot: snapshot, standby: standby)
    }

    /// Whether the session on `conn` (where actions go) may act; a standby refuses every
    /// write: say where the primary is rather than what failed. `standby` is the read side's.
    private static func permission(_ conn: Connection, snapshot: HealthSnapshot, standby: StandbyStatus?) throws -> Result {
        if let refusal = try cliErrors({ try ServerRoleStore(connection: conn).standby() })?.refusal {
            return Result(snapshot: snapshot, readOnly: true, readOnlyReason: refusal, standby: standby)
        }
        let mayAct = try cliErrors { try AuditStore(connection: conn).mayAct() }
        guard !mayAct else { return Result(snapshot: snapshot, readOnly: false, readOnlyReason: nil, standby: standby) }
        return Result(snapshot: snapshot, readOnly: true, readOnlyReason: try cliErrors { try reason(conn) }, standby: standby)
    }

    /// Why a session on a primary that did not ask for read-only may not act, in the terms of
    /// `mayAct`'s checks (a standby's reason is `StandbyStatus.refusal`).
    static func reason(_ conn: Connection) throws -> String {
        let row = try conn.query("""
            SELECT current_user::text AS role, current_setting('transaction_read_only') = 'on' AS read_only
            """).first
        guard let row else { return "the database says this role may not act" }
        if try row.decode("read_only", as: Bool.self) { return "the database session is read-only (default_transaction_read_only)" }
        let role = try row.decode("role", as: String.self)
        return "role \(role) may not run operator actions (needs queuetop_operator)"
    }
}
