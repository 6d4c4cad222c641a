import ArgumentParser
import Foundation
import Postgres
import QueueStore

/// `queuetop migrate [--status]`: applies the bundled SQL migrations in order.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the SQL migrations (each file in its own transaction); --status lists applied and pending files.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "List applied and pending migrations; change nothing.")
    var status = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let runner = MigrationRunner(files: try MigrationFiles.load())
        let conn = try connection.connect()
        defer { conn.close() }
        do {
            if status {
                let s = try runner.status(on: conn)
                if json {
                    printJSON([
                        "applied": s.applied.map { ["name": $0.name, "checksum": $0.checksum, "applied_at": ISO8601DateFormatter().string(from: $0.appliedAt)] },
                        "pending": s.pending, "missing": s.missing,
                    ] as [String: Any])
                    return
                }
                for a in s.applied { print("applied  \(a.name)  \(ISO8601DateFormatter().string(from: a.appliedAt))") }
                for p in s.pending { print("pending  \(p)") }
                for m in s.missing { print("missing  \(m)  (applied, but not in this build's migrations)") }
                if s.applied.isEmpty && s.pending.isEmpty { print("no migrations") }
                return
            }
            let applied = try runner.migrate(on: conn)
            if json {
                printJSON(["applied": applied] as [String: Any])
            } else if applied.isEmpty {
                print("up to date (\(runner.files.count) migrations applied)")
            } else {
                for name in applied { print("applied  \(name)") }
            }
        } catch let error as QueueStoreError {
            throw CLIError(error.description)
        } catch let error as PostgresError {
            throw CLIError(error.description)
        }
    }
}
