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

    /// `migrate --status` names the work `migrate` does after the install's transaction and has not
    /// done: an online index a paste of queuetop.sql over a table with rows never built (or an
    /// interrupted build left INVALID), 0028's copy of id tails. `migrate` does it; then nothing.
    @Test func statusNamesOnlineWorkNotDoneUntilMigrateDoesIt() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            defer { conn.close() }
            let runner = MigrationRunner(try MigrationFiles.loadSet())
            try runner.migrate(on: conn)
            #expect(try runner.status(on: conn).onlinePending == [], "a fresh install leaves no online work")
            try conn.executeScript("""
                INSERT INTO queuetop.queues (name) VALUES ('online');
                INSERT INTO queuetop.job_queue (queue, job_type) SELECT 'online', 'x' FROM generate_series(1, 500);
                DROP INDEX queuetop.job_queue_completed_id_idx;
                UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'queuetop.job_queue_dead_id_idx'::regclass;
                CREATE INDEX job_queue_id_tail_idx ON queuetop.job_queue ((reverse(right(id::text, 12))) COLLATE "C");
                INSERT INTO queuetop.job_queue_ids_backfill DEFAULT VALUES;
                """)
            let pending = try runner.status(on: conn).onlinePending
            #expect(pending.contains { $0.hasPrefix("index job_queue_completed_id_idx ") }, "\(pending)")
            #expect(pending.contains { $0.hasPrefix("index job_queue_dead_id_idx ") }, "an INVALID index is not built: \(pending)")
            #expect(pending.contains { $0.hasPrefix("job_queue_ids: copy the id tails") }, "\(pending)")
            #expect(pending.count == 3, "\(pending)")

            // A role that may read the bookkeeping of files but not the copy's is told so; nothing
            // fails. (queuetop's own roles read both.)
            // Roles are the cluster's: a name of its own, dropped at the end, so reruns can create it.
            let role = "qt_status_" + UUID().uuidString.prefix(8).lowercased()
            try conn.executeScript("""
                CREATE ROLE \(role);
                GRANT USAGE ON SCHEMA queuetop TO \(role);
                GRANT SELECT ON queuetop.schema_migrations TO \(role);
                SET ROLE \(role);
                """)
            let asViewer = try runner.status(on: conn).onlinePending
            try conn.executeScript("RESET ROLE; DROP OWNED BY \(role); DROP ROLE \(role)")
            #expect(asViewer.contains { $0.contains("cannot read job_queue_ids_backfill") }, "\(asViewer)")

            // The copy done but the old index still there (a migrate interrupted between the two).
            try conn.executeScript("DELETE FROM queuetop.job_queue_ids_backfill")
            #expect(try runner.status(on: conn).onlinePending.contains { $0.hasPrefix("index job_queue_id_tail_idx: drop") })

            let done = try runner.migrate(on: conn)
            #expect(done.contains("index job_queue_completed_id_idx (built concurrently)"), "\(done)")
            #expect(try runner.status(on: conn).onlinePending == [], "migrate did it all")
        }
    }
}
