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
            let rows: Int = try conn.query("SELECT count(*) FROM t").scalar()
            #expect(rows == 1)
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
            let uExists: Bool = try conn.query("SELECT to_regclass('u') IS NOT NULL").scalar()
            #expect(!uExists, "the pending file must not be applied after a checksum mismatch")
        }
    }

    @Test func failingFileRollsBackAndIsNotRecorded() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let dir = try folder([
                "0001_ok.sql": "CREATE TABLE t (a int);",
                "0002_bad.sql": "CREATE TABLE half (a int); SELECT no_such_function();",
            ])
            let runner = MigrationRunner(files: try MigrationFiles.load(from: dir))
            #expect(throws: QueueStoreError.self) { try runner.migrate(on: conn) }
            let halfExists: Bool = try conn.query("SELECT to_regclass('half') IS NOT NULL").scalar()
            #expect(!halfExists)
            let status = try runner.status(on: conn)
            #expect(status.applied.map(\.name) == ["0001_ok.sql"])
            #expect(status.pending == ["0002_bad.sql"])
        }
    }

    @Test func duplicateNumbersAreAnError() throws {
        let dir = try folder(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        #expect(throws: QueueStoreError.self) { try MigrationFiles.load(from: dir) }
    }

    @Test func shippedMigrationsApplyToAnEmptyDatabaseAndAgainAsNoOp() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            let runner = MigrationRunner(files: try MigrationFiles.load())
            #expect(!runner.files.isEmpty)
            let applied = try runner.migrate(on: conn)
            #expect(applied == runner.files.map(\.name))
            #expect(try runner.migrate(on: conn).isEmpty)
        }
    }
}
