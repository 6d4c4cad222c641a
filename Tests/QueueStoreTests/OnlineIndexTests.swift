import Foundation
import Postgres
import QueueStore
import TestSupport
import Testing

/// The job explorer's indexes (0026, OnlineIndexes): on a job_queue with rows, `queuetop migrate`
/// builds them with CREATE INDEX CONCURRENTLY after the install, so writers never wait for the
/// build; a build left INVALID is dropped and built again; the definitions are the migration's.
@Suite(.serialized) struct OnlineIndexTests {
    static let names = OnlineIndexes.all.map(\.name)

    /// name -> (indexdef, valid) for the explorer's indexes.
    func indexes(_ conn: Connection) throws -> [String: (String, Bool)] {
        var out: [String: (String, Bool)] = [:]
        for row in try conn.query("""
            SELECT c.relname::text AS name, pg_get_indexdef(c.oid) AS def, i.indisvalid AS valid
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'queuetop' AND c.relname = ANY(\(Self.names)::text[])
            """) {
            out[try row.decode("name")] = (try row.decode("def"), try row.decode("valid"))
        }
        return out
    }

    /// Rows enough that building an index takes a while (each with a tenant and a dedup key).
    func fill(_ conn: Connection, rows: Int) throws {
        // Hundreds of thousands of rows take longer than the liveness bound on a loaded machine.
        try conn.withPatience(.batch) { try fillRows(conn, rows: rows) }
    }

    private func fillRows(_ conn: Connection, rows: Int) throws {
        try conn.executeScript("""
            INSERT INTO queuetop.queues (name) VALUES ('big') ON CONFLICT DO NOTHING;
            INSERT INTO queuetop.job_queue (queue, job_type, status, tenant, dedup_key, completed_at)
            SELECT 'big', 'noop', 'completed', 'shop-' || (g % 1000), 'k' || g, now() FROM generate_series(1, \(rows)) g;
            ANALYZE queuetop.job_queue;
            """)
    }

    func dropExplorerIndexes(_ conn: Connection) throws {
        for name in Self.names { try conn.executeScript("DROP INDEX IF EXISTS queuetop.\(name)") }
    }

    @Test func aFreshInstallHasThemAndTheyMatchTheOnlineBuild() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            let fresh = try indexes(conn)
            #expect(Set(fresh.keys) == Set(Self.names), "0026 builds them on an empty job_queue")
            let allValid = fresh.values.allSatisfy { $0.1 }
            #expect(allValid)
            try fill(conn, rows: 100)
            try dropExplorerIndexes(conn)
            let built = try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn)
            #expect(built == Self.names.map { "index \($0) (built concurrently)" })
            let online = try indexes(conn)
            for name in Self.names {
                #expect(online[name]?.0 == fresh[name]?.0, "the online build of \(name) is 0026's definition")
                #expect(online[name]?.1 == true)
            }
            #expect(try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn) == [], "a second migrate is a no-op")
        }
    }

    /// The point of CONCURRENTLY: while `migrate` builds the indexes on a big job_queue, another
    /// session's inserts go on, each under a lock_timeout far below the build's length. A plain
    /// CREATE INDEX (what a versioned migration would run) holds a SHARE lock for the whole build,
    /// and those inserts would fail with 55P03.
    @Test func migrateBuildsThemWhileAnotherSessionInserts() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try fill(conn, rows: 400_000)
            try dropExplorerIndexes(conn)
            let writer = try db.connect()
            defer { writer.close() }
            try writer.executeScript("SET lock_timeout = '200ms'")
            let migrating = try db.connect()
            defer { migrating.close() }
            let done = OnlineIndexTestBox(false)
            let result = OnlineIndexTestBox<Result<[String], Error>?>(nil)
            let thread = Thread {
                result.set(Result { try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: migrating) })
                done.set(true)
            }
            thread.start()
            var inserted = 0, duringBuild = 0, failures: [String] = []
            while !done.get() {
                do {
                    try writer.executeScript("INSERT INTO queuetop.job_queue (queue, job_type, tenant, dedup_key) VALUES ('big', 'noop', 'shop-x', 'live-\(inserted)')")
                    inserted += 1
                    let building: Bool = try conn.query(
                        "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.index_relid WHERE c.relname = ANY(\(Self.names)::text[]))").scalar()
                    if building { duringBuild += 1 }
                } catch {
                    failures.append("\(error)")
                    if failures.count > 5 { break }
                }
            }
            while !done.get() { usleep(10_000) }
            let built = try result.get()!.get()
            #expect(built.count == Self.names.count, "migrate built \(built)")
            #expect(failures.isEmpty, "an insert waited for the build: \(failures)")
            #expect(duringBuild > 0, "inserts ran while an index was being built (\(inserted) inserts in all)")
            let allValid = try indexes(conn).values.allSatisfy { $0.1 }
            #expect(allValid, "every index valid after the build")
            let live: Int = try conn.query("SELECT count(*)::int FROM queuetop.job_queue WHERE tenant = 'shop-x'").scalar()
            #expect(live == inserted, "every insert is there")
        }
    }

    /// A concurrent build that did not finish leaves an INVALID index: never used by the planner,
    /// still maintained by every write. The next `migrate` drops it and builds it again.
    /// Where users install: a non-superuser owner with Supabase-style default privileges, and
    /// `queuetop migrate` through a transaction-mode PgBouncer of one server connection (each
    /// statement may land on a different session; CONCURRENTLY cannot run in a transaction block).
    /// The upgrade path: a job_queue with rows and without the indexes gets them, valid, owned by
    /// the owner.
    @Test func aNonSuperuserOwnerBuildsThemThroughATransactionPooler() throws {
        try HostDatabase.with { host in
            try host.addSupabase()
            let first = try host.migrate()
            #expect(first.status == 0, "install: \(first.stderr)")
            let owner = try Connection.connect(host.ownerConfig)
            defer { owner.close() }
            try fill(owner, rows: 20_000)
            try dropExplorerIndexes(owner)
            #expect(try indexes(owner).isEmpty, "the table is as a database installed before 0026 had it")

            let bouncer = try PgBouncer(mode: .transaction, poolSize: 1, users: [host.owner])
            defer { bouncer.stop() }
            let url = try bouncer.config(host.ownerConfig).unredactedConninfo()
            let upgrade = try QueuetopBinary.run(["migrate", "--db", url], timeout: 120)
            #expect(upgrade.status == 0, "migrate through the pooler: \(upgrade.stderr)")
            let built = try indexes(owner)
            #expect(Set(built.keys) == Set(Self.names), "both built: \(built.keys.sorted())")
            #expect(built.values.allSatisfy { $0.1 }, "and valid: \(built)")
            let owners: [String] = try owner.query("""
                SELECT c.relowner::regrole::text AS owner FROM pg_class c
                WHERE c.relnamespace = 'queuetop'::regnamespace AND c.relname = ANY(\(Self.names)::text[])
                """).map { try $0.decode("owner") }
            #expect(Set(owners) == [host.owner], "owned by the owner, not a superuser: \(owners)")
        }
    }

    @Test func anInvalidIndexLeftByAFailedBuildIsRebuilt() throws {
        try TestDatabase.with { db in
            let conn = try db.connect()
            defer { conn.close() }
            try fill(conn, rows: 20_000)
            // What an interrupted CREATE INDEX CONCURRENTLY leaves behind.
            try conn.executeScript("""
                UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'queuetop.job_queue_tenant_id_idx'::regclass
                """)
            #expect(try indexes(conn)["job_queue_tenant_id_idx"]?.1 == false)
            #expect(try OnlineIndexes.missing(schema: "queuetop", on: conn) == ["job_queue_tenant_id_idx"])
            let built = try MigrationRunner(try MigrationFiles.loadSet()).migrate(on: conn)
            #expect(built == ["index job_queue_tenant_id_idx (built concurrently)"])
            #expect(try indexes(conn)["job_queue_tenant_id_idx"]?.1 == true)
            #expect(try OnlineIndexes.missing(schema: "queuetop", on: conn).isEmpty)
            // And the explorer's rare-tenant search now starts from it.
            let plan: [String] = try conn.query("""
                EXPLAIN SELECT id FROM queuetop.job_queue j WHERE j.tenant = 'shop-7' ORDER BY j.id DESC LIMIT 51
                """).map { try $0.decode("QUERY PLAN") }
            #expect(plan.joined(separator: "\n").contains("job_queue_tenant_id_idx"), "plan: \(plan)")
        }
    }
}

/// A value shared with the migrating thread.
final class OnlineIndexTestBox<T>: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
}
