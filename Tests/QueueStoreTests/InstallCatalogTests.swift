import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The catalog golden: every way a database reaches this version — a fresh `migrate`, an
/// install of 0001–0012 in `public` upgraded in place, the same files pasted by hand with no
/// bookkeeping, and the one-paste `migrations/queuetop.sql` — ends in exactly the same functions
/// (arguments, result, SECURITY, configuration, ACL, body digest) and the same table, column and
/// schema privileges, recorded in Golden/catalog.txt.
///
/// After an intended change: `QUEUETOP_UPDATE_GOLDEN=1 scripts/test --filter InstallCatalogTests`
/// rewrites the file; review its diff like code.
@Suite struct InstallCatalogTests {
    static let goldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/catalog.txt")

    /// One line per object. The owner's name (the test cluster's superuser here, the app's
    /// owner elsewhere) is written `<owner>`, so the golden does not depend on who installed.
    static let catalogQuery: Query = """
        WITH s AS (SELECT 'queuetop'::regnamespace AS ns)
        SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') -> '
               || coalesce(pg_get_function_result(p.oid), 'procedure')
               || ' | ' || CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END
               || ' | ' || coalesce(array_to_string(p.proconfig, ','), '')
               || ' | ' || coalesce((SELECT string_agg(replace(a::text, p.proowner::regrole::text, '<owner>'), ',' ORDER BY a::text)
                                     FROM unnest(p.proacl) a), 'default')
               || ' | ' || md5(pg_get_functiondef(p.oid)) AS line
          FROM pg_proc p, s WHERE p.pronamespace = s.ns
        UNION ALL
        SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' | '
               || coalesce((SELECT string_agg(replace(a::text, c.relowner::regrole::text, '<owner>'), ',' ORDER BY a::text)
                            FROM unnest(c.relacl) a), 'default')
          FROM pg_class c, s WHERE c.relnamespace = s.ns AND c.relkind IN ('r', 'v', 'm', 'p', 'S')
        UNION ALL
        SELECT 'column ' || c.relname || '.' || a.attname || ' | ' || a.attacl::text
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, s
         WHERE c.relnamespace = s.ns AND a.attacl IS NOT NULL
        UNION ALL
        SELECT 'type ' || t.typname
          FROM pg_type t, s WHERE t.typnamespace = s.ns AND t.typtype = 'c'
           AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
        UNION ALL
        SELECT 'schema | ' || coalesce((SELECT string_agg(replace(a::text, n.nspowner::regrole::text, '<owner>'), ',' ORDER BY a::text)
                                        FROM unnest(n.nspacl) a), 'default')
          FROM pg_namespace n, s WHERE n.oid = s.ns
        UNION ALL
        SELECT 'default privileges ' || d.defaclobjtype::text || ' in ' || coalesce(d.defaclnamespace::regnamespace::text, 'every schema')
          FROM pg_default_acl d
        ORDER BY 1
        """

    static func catalog(_ conn: Connection) throws -> String {
        try conn.query(catalogQuery).map { row -> String in try row.decode("line") }.joined(separator: "\n") + "\n"
    }

    static var set: MigrationSet { get throws { try MigrationFiles.loadSet() } }
    /// The files an install from before 0013 had: 0001–0012.
    static var legacyFiles: [MigrationFile] { get throws { try LegacyInstall.files } }

    func expectGolden(_ actual: String, _ how: String) throws {
        if ProcessInfo.processInfo.environment["QUEUETOP_UPDATE_GOLDEN"] == "1", how == "fresh" {
            try FileManager.default.createDirectory(at: Self.goldenURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: Self.goldenURL, atomically: true, encoding: .utf8)
        }
        let golden = (try? String(contentsOf: Self.goldenURL, encoding: .utf8)) ?? ""
        if actual != golden {
            let a = Set(actual.split(separator: "\n")), g = Set(golden.split(separator: "\n"))
            Issue.record("""
                \(how) install differs from Golden/catalog.txt
                only in the database: \(a.subtracting(g).sorted().prefix(12).joined(separator: "\n  "))
                only in the golden:   \(g.subtracting(a).sorted().prefix(12).joined(separator: "\n  "))
                """)
        }
    }

    @Test func freshInstall() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            try MigrationRunner(try Self.set).migrate(on: conn)
            try expectGolden(try Self.catalog(conn), "fresh")
        }
    }

    /// What `queuetop migrate` of the 0012 era left: every file run in `public`, each in its own
    /// transaction, recorded in public.schema_migrations. Then this build's migrate.
    @Test func installOf0012InPublicUpgradedInPlace() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            try LegacyInstall.installInPublic(on: conn)
            let status = try MigrationRunner(try Self.set).status(on: conn)
            #expect(status.home == "public" && status.found == "recorded")
            try MigrationRunner(try Self.set).migrate(on: conn)
            try expectGolden(try Self.catalog(conn), "upgraded")
            let leftInPublic: Int = try conn.query("""
                SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace)
                     + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
                """).scalar()
            #expect(leftInPublic == 0, "every queuetop object moved out of public")
        }
    }

    /// The seeds' way: the files pasted into an SQL editor, one after the other, no bookkeeping.
    @Test func pasteInstallIsAdoptedThenUpgraded() throws {
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            try conn.executeScript("SET search_path = public")
            for file in try Self.legacyFiles { try conn.transaction { tx in try tx.executeScript(file.sql) } }
            try conn.executeScript("INSERT INTO public.queues (name) VALUES ('kept'); INSERT INTO public.job_queue (queue, job_type, payload) VALUES ('kept', 'k', '{}')")
            try conn.executeScript("RESET search_path")
            let runner = MigrationRunner(try Self.set)
            let before = try runner.status(on: conn)
            #expect(before.home == "public" && before.found == "hand")
            try runner.migrate(on: conn)
            try expectGolden(try Self.catalog(conn), "paste")
            let after = try runner.status(on: conn)
            #expect(after.pending.isEmpty && after.home == "queuetop")
            #expect(after.applied.filter { $0.how == "adopted" }.map(\.name).first == "0001_queue_engine.sql")
            let kept: Int = try conn.query("SELECT count(*) FROM queuetop.job_queue WHERE queue = 'kept'").scalar()
            #expect(kept == 1, "rows survive adoption and the move")
        }
    }

    /// migrations/queuetop.sql, pasted whole (simple-query protocol, as an SQL editor sends it).
    @Test func oneFileBundleInstallsTheSameAndIsCurrent() throws {
        let set = try Self.set
        let bundle = InstallScript(versioned: set.versioned, repeatable: set.repeatable).bundle
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations/queuetop.sql")
        let onDisk = (try? String(contentsOf: shipped, encoding: .utf8)) ?? ""
        #expect(onDisk == bundle, "migrations/queuetop.sql is stale: run `queuetop sql bundle > migrations/queuetop.sql`")
        try TestDatabase.with(migrated: false) { db in
            let conn = try db.connect()
            try conn.executeScript(bundle)
            try expectGolden(try Self.catalog(conn), "bundle")
            try conn.executeScript(bundle)  // again: a no-op
            let status = try MigrationRunner(set).status(on: conn)
            #expect(status.pending.isEmpty && status.repeatablePending.isEmpty)
            #expect(try MigrationRunner(set).migrate(on: conn).isEmpty, "queuetop migrate agrees the paste is complete")
        }
    }
}
