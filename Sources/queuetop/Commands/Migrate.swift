import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop migrate [--status]`: installs or upgrades queuetop's schema in one transaction.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Install or upgrade queuetop's schema (one transaction); --status says what the database holds.",
        discussion: HelpText.reflow("""
            Everything lives in one schema, `queuetop` unless --schema (or QUEUETOP_SCHEMA) names \
            another at install time. An install from before 0013 (in `public`) is moved there; \
            objects applied by hand without bookkeeping are verified and adopted. \
            migrations/queuetop.sql does the same for a paste into an SQL editor (docs/SQL_LAYOUT.md).
            """))

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Say what the database holds and what migrate would do; change nothing.")
    var status = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        // --status only reads: a replica-only context may answer it.
        let config = try status ? connection.readConfig() : connection.writeConfig()
        let runner = MigrationRunner(try MigrationFiles.loadSet(), schema: config.schema.installTarget)
        let conn: Connection
        do { conn = try Connection.connect(config) } catch let error as PostgresError { throw CLIError(error.description) }
        defer { conn.close() }
        do {
            if status {
                try printStatus(try runner.status(on: conn), runner: runner)
                return
            }
            try ConnectionOptions.refuseStandby(conn)
            let applied = try runner.migrate(on: conn)
            // After the install's one transaction: rows failed before 0021 get their error
            // fingerprints in short batches, each its own transaction (docs/TRIAGE.md). On a
            // fresh connection: this one resolved the schema before the install, which may have
            // created it or moved the install there (0013).
            let after = try Connection.connect(config)
            defer { after.close() }
            try TriageStore(connection: after).backfillFingerprints()
            if json {
                printJSON(AppliedJSON(schema: runner.schema, applied: applied))
            } else if applied.isEmpty {
                print("up to date: schema \(runner.schema), \(runner.files.count) migrations and \(runner.repeatable.count) repeatable files applied")
            } else {
                for name in applied { print("applied  \(name)") }
                print("installed in schema \(runner.schema)")
            }
        } catch let error as QueueStoreError {
            throw CLIError(error.description)
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }

    private func printStatus(_ s: MigrationRunner.Status, runner: MigrationRunner) throws {
        let iso = ISO8601DateFormatter()
        if json {
            printJSON(StatusJSON(
                schema: runner.schema, home: s.home, found: s.found,
                applied: s.applied.map { .init(name: $0.name, checksum: $0.checksum, how: $0.how, applied_at: iso.string(from: $0.appliedAt)) },
                pending: s.pending, repeatable_pending: s.repeatablePending, missing: s.missing,
                online_pending: s.onlinePending))
            return
        }
        switch (s.found, s.home) {
        case ("hand", let home?):
            print("found    queuetop objects applied by hand in schema \(home), with no record of which files; "
                  + "`queuetop migrate` verifies them, records them as adopted and upgrades from there")
        case ("recorded", let home?) where home != runner.schema:
            print("found    an install in schema \(home) (before 0013); `queuetop migrate` moves it to schema \(runner.schema)")
        case ("recorded", let home?):
            print("found    an install in schema \(home)")
        default:
            print("found    no install; `queuetop migrate` creates schema \(runner.schema)")
        }
        // Labels fill 8 columns and are never cut: padding(toLength: 8) printed "repeatab" for
        // the repeatable files.
        for a in s.applied {
            let label = a.how.count >= 8 ? a.how : a.how.padding(toLength: 8, withPad: " ", startingAt: 0)
            print("\(label) \(a.name)  \(iso.string(from: a.appliedAt))")
        }
        for p in s.pending { print("pending  \(p)") }
        for p in s.repeatablePending where s.found == "recorded" { print("pending  \(p)") }
        for p in s.onlinePending { print("pending  \(p)") }
        for m in s.missing { print("missing  \(m)  (applied, but not in this build's migrations)") }
    }
}

/// `queuetop sql bundle`: prints migrations/queuetop.sql, the one-paste installer.
struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "The SQL queuetop installs, for SQL editors and review.",
        subcommands: [Bundle.self])

    struct Bundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the install-or-upgrade script (what migrations/queuetop.sql holds) to stdout.")

        func run() throws {
            let set = try MigrationFiles.loadSet()
            // Byte-exact: this is the SQL file itself, not a report (see SafeOutput.swift).
            Swift.print(InstallScript(versioned: set.versioned, repeatable: set.repeatable).bundle, terminator: "")
        }
    }
}

extension SchemaChoice {
    /// The schema `migrate` installs into: the one named, else queuetop's default.
    var installTarget: String {
        switch self {
        case .named(let name): return name
        default: return InstallScript.defaultSchema
        }
    }
}

// `--json` shapes of migrate; the property names are the JSON keys (JSONOutput.swift).
extension MigrateCommand {
    /// `migrate --json`: the files this run applied.
    struct AppliedJSON: Encodable {
        let schema: String
        let applied: [String]
    }

    /// `migrate --status --json`. `home` is null when there is no install yet.
    struct StatusJSON: Encodable {
        struct Applied: Encodable {
            let name: String
            let checksum: String
            let how: String
            let applied_at: String
        }
        let schema: String
        @OrNull var home: String?
        let found: String
        let applied: [Applied]
        let pending: [String]
        let repeatable_pending: [String]
        let missing: [String]
        /// Online work `migrate` has not done yet (indexes built concurrently, 0028's copy).
        let online_pending: [String]
    }
}
