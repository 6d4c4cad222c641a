import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

@Suite struct MigrationRunnerTests {
    /// A folder of migration files for one test.
    func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func appliesInOrderThenIsANoOp() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let dir = try folder([
                "0002_second.sql": "ALTER TABLE t ADD COLUMN b int;",
                "0001_first.sql": "CREATE TABLE t (a int); INSERT INTO t VALUES (1);",
                "README.txt": "not a migration",
            ])
            let runner = MigrationRunner(files: try MigrationFiles.load(from: dir))
            #expect(try runner.migrate(on: conn) == ["0001_first.sql", "0002_second.sql"])
            #expect(try runner.migrate(on: conn) == [])
            let status = try runner.status(on: conn)
            #expect(status.applied.map(\.name) == ["0001_first.sql", "0002_second.sql"])
            #expect(status.pending.isEmpty)
            let rows: Int = try conn.query("SELECT count(*) FROM queuetop.t").scalar()
            #expect(rows == 1, "the files ran in queuetop's own schema")
        }
    }

    @Test func changedChecksumIsRefusedNamingTheFileAndNothingIsApplied() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let dir = try folder(["0001_first.sql": "CREATE TABLE t (a int);"])
            try MigrationRunner(files: try MigrationFiles.load(from: dir)).migrate(on: conn)
            try "CREATE TABLE t (a bigint);".write(to: dir.appendingPathComponent("0001_first.sql"), atomically: true, encoding: .utf8)
            try "CREATE TABLE u (a int);".write(to: dir.appendingPathComponent("0002_more.sql"), atomically: true, encoding: .utf8)
            do {
                try MigrationRunner(files: try MigrationFiles.load(from: dir)).migrate(on: conn)
                Issue.record("an edited migration was accepted")
            } catch let error as QueueStoreError {
                #expect(error.description.contains("0001_first.sql"))
                #expect(error.description.contains("changed"))
            }
            let uExists: Bool = try conn.query("SELECT to_regclass('queuetop.u') IS NOT NULL").scalar()
            #expect(!uExists, "the pending file must not be applied after a checksum mismatch")
        }
    }

    /// An upgrade is one transaction: a failing file leaves the database exactly as it was, so a
    /// running worker never meets half of an upgrade.
    @Test func failingFileRollsBackEverythingAndNamesTheFile() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let dir = try folder([
                "0001_ok.sql": "CREATE TABLE t (a int);",
                "0002_bad.sql": "CREATE TABLE half (a int); SELECT no_such_function();",
            ])
            let runner = MigrationRunner(files: try MigrationFiles.load(from: dir))
            do {
                try runner.migrate(on: conn)
                Issue.record("a failing migration was accepted")
            } catch let error as QueueStoreError {
                #expect(error.description.contains("0002_bad.sql"))
                #expect(error.description.contains("no_such_function"))
            }
            let anything: Bool = try conn.query(
                "SELECT to_regclass('queuetop.half') IS NOT NULL OR to_regclass('queuetop.t') IS NOT NULL OR to_regnamespace('queuetop') IS NOT NULL").scalar()
            #expect(!anything, "nothing of the failed install may remain")
            let status = try runner.status(on: conn)
            #expect(status.applied.isEmpty)
            #expect(status.pending == ["0001_ok.sql", "0002_bad.sql"])
        }
    }

    @Test func aSchemaThatIsNotQueuetopsIsRefused() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let dir = try folder(["0001_first.sql": "CREATE TABLE t (a int);"])
            try conn.executeScript("CREATE SCHEMA app; CREATE TABLE app.orders (id int)")
            for bad in ["public", "app", "Jobs", "a;drop", "pg_jobs", ""] {
                #expect(throws: QueueStoreError.self, "schema '\(bad)'") {
                    try MigrationRunner(files: try MigrationFiles.load(from: dir), schema: bad).migrate(on: conn)
                }
            }
            let tables: Int = try conn.query("SELECT count(*) FROM pg_class WHERE relname = 't'").scalar()
            #expect(tables == 0)
            try MigrationRunner(files: try MigrationFiles.load(from: dir), schema: "jobs").migrate(on: conn)
            let inJobs: Bool = try conn.query("SELECT to_regclass('jobs.t') IS NOT NULL").scalar()
            #expect(inJobs)
        }
    }

    @Test func duplicateNumbersAreAnError() throws {
        let dir = try folder(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        #expect(throws: QueueStoreError.self) { try MigrationFiles.load(from: dir) }
    }

    @Test func shippedMigrationsApplyToAnEmptyDatabaseAndAgainAsNoOp() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let runner = MigrationRunner(try MigrationFiles.loadSet())
            #expect(!runner.files.isEmpty && !runner.repeatable.isEmpty)
            let applied = try runner.migrate(on: conn)
            #expect(applied == runner.files.map(\.name) + runner.repeatable.map { "repeatable/" + $0.name })
            #expect(try runner.migrate(on: conn).isEmpty)
            let status = try runner.status(on: conn)
            #expect(status.home == "queuetop" && status.pending.isEmpty && status.repeatablePending.isEmpty)
        }
    }
}
