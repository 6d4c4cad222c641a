import Foundation
@testable import Postgres
import TestSupport
import Testing

/// `\(qt: "name")` and the schema a connection resolves (`SchemaChoice`).
@Suite struct SchemaTests {
    // MARK: rendering

    @Test func qualifiedNamesRenderWithTheQuotedSchemaAndBindsStayParameters() {
        let sneaky = "x\u{1A}y"
        let query: Query = "SELECT \(qt: "enqueue_job")(\(7), \(sneaky)) FROM \(qt: "job_queue") j WHERE j.id = \(UUID(uuidString: "00000000-0000-0000-0000-000000000001")!)"
        let rendered = query.sql(schemaPrefix: Query.schemaPrefix("queuetop"))
        #expect(rendered == #"SELECT "queuetop".enqueue_job($1, $2) FROM "queuetop".job_queue j WHERE j.id = $3"#)
        #expect(!rendered.unicodeScalars.contains("\u{1A}"))
        #expect(query.binds == ["7", sneaky, "00000000-0000-0000-0000-000000000001"])
        // A schema name is an identifier: quoted, embedded quotes doubled.
        #expect(Query.schemaPrefix(#"we"ird"#) == #""we""ird"."#)
        #expect(Query.schemaPrefix("public") == #""public"."#)
    }

    @Test func queriesWithoutQualifiedNamesAreSentAsWritten() {
        let query: Query = "SELECT \(1) AS one"
        #expect(query.sql(schemaPrefix: #""queuetop"."#) == "SELECT $1 AS one")
        #expect(Query(unsafeSQL: "SELECT 1").sql(schemaPrefix: #""queuetop"."#) == "SELECT 1")
    }

    // MARK: validation

    @Test func namedSchemasMustBePlainIdentifiers() throws {
        for bad in ["a;drop", "\"x\"", "", String(repeating: "s", count: 64), "1abc", "with space", "dash-ed", "a.b", "ação"] {
            #expect(throws: PostgresError.self, "\(bad.debugDescription) was accepted") { try SchemaChoice.validated(bad) }
            if !bad.isEmpty {  // an empty --schema counts as not given, like an empty --db
                #expect(throws: PostgresError.self) { try ConnectionConfig.resolve(explicit: "dbname=x", schema: bad, environment: [:]) }
            }
        }
        for good in ["queuetop", "_q", "Q2_jobs", String(repeating: "s", count: 63)] {
            #expect(try SchemaChoice.validated(good) == .named(good))
        }
        let error = try #require(throws: PostgresError.self) { try SchemaChoice.validated("a;drop") }
        #expect(error.description.contains("invalid schema name"))
    }

    @Test func optionThenEnvironmentThenAuto() throws {
        #expect(try ConnectionConfig.resolve(explicit: "dbname=x", environment: [:]).schema == .standard)
        #expect(SchemaChoice.standard == .auto(preferred: "queuetop", legacy: "public", marker: "job_queue"))
        #expect(try ConnectionConfig.resolve(explicit: "dbname=x", environment: ["QUEUETOP_SCHEMA": "jobs"]).schema == .named("jobs"))
        #expect(try ConnectionConfig.resolve(explicit: "dbname=x", schema: "mine", environment: ["QUEUETOP_SCHEMA": "jobs"]).schema == .named("mine"))
        #expect(throws: PostgresError.self) {
            try ConnectionConfig.resolve(explicit: "dbname=x", environment: ["QUEUETOP_SCHEMA": "x;y"])
        }
    }

    @Test func anInvalidNamedSchemaFailsBeforeConnecting() throws {
        var config = try ConnectionConfig("host=/nonexistent-socket-dir port=1 connect_timeout=1")
        config.schema = .named("a;drop")
        let error = try #require(throws: PostgresError.self) { try Connection.connect(config) }
        #expect(error.description.contains("invalid schema name"))
    }

    // MARK: resolution against a real database

    private func resolved(_ db: TestDatabase) throws -> String {
        let conn = try Connection.connect(db.config)
        defer { conn.close() }
        return conn.schema
    }

    @Test func autoPicksPreferredWhenNothingIsInstalled() throws {
        try TestDatabase.with(migrated: false) { db in
            let schema = try resolved(db)
            #expect(schema == "queuetop")
        }
    }

    @Test func autoPicksLegacyWhenOnlyItHoldsTheMarker() throws {
        try TestDatabase.with(migrated: false) { db in
            let setup = try db.connect()
            defer { setup.close() }
            try setup.executeScript("CREATE SCHEMA queuetop; CREATE TABLE public.job_queue (id int)")
            #expect(try resolved(db) == "public")
        }
    }

    @Test func autoPrefersPreferredWhenBothHoldTheMarker() throws {
        try TestDatabase.with(migrated: false) { db in
            let setup = try db.connect()
            defer { setup.close() }
            try setup.executeScript("""
                CREATE SCHEMA queuetop; CREATE TABLE queuetop.job_queue (id int); CREATE TABLE public.job_queue (id int)
                """)
            #expect(try resolved(db) == "queuetop")
        }
    }

    @Test func namedNeedsNoRoundTripAndQualifiesEveryStatement() throws {
        try TestDatabase.with(migrated: false) { db in
            let setup = try db.connect()
            defer { setup.close() }
            try setup.executeScript("""
                CREATE SCHEMA "Jobs"; CREATE TABLE "Jobs".job_queue (v text);
                CREATE FUNCTION "Jobs".twice(x int) RETURNS int LANGUAGE sql AS 'SELECT 2 * x';
                CREATE TYPE "Jobs".pair AS (a int, b text)
                """)
            var config = db.config
            config.schema = try SchemaChoice.validated("Jobs")
            let conn = try Connection.connect(config)
            defer { conn.close() }
            #expect(conn.schema == "Jobs")
            let value = "it's \u{1A} ; DROP TABLE job_queue"
            try conn.execute("INSERT INTO \(qt: "job_queue") (v) VALUES (\(value))")
            #expect(try conn.query("SELECT v FROM \(qt: "job_queue")").scalar(String.self) == value)
            #expect(try conn.query("SELECT \(qt: "twice")(\(21))").scalar(Int.self) == 42)
            #expect(try conn.query("SELECT (ROW(1, 'b')::\(qt: "pair")).b").scalar(String.self) == "b")
            // The database's own search_path (pg_catalog, set by TestDatabase) finds none of it.
            #expect(throws: PostgresError.self) { try conn.query("SELECT count(*) FROM job_queue") }
        }
    }

    /// A worker's connection breaks on a missing table when `queuetop migrate` moves the install
    /// under it; the managed connection drops the link and the next one finds the new place.
    @Test func aMovedInstallIsFoundAgainAfterReconnecting() throws {
        try TestDatabase.with(migrated: false) { db in
            let setup = try db.connect()
            defer { setup.close() }
            try setup.executeScript("CREATE TABLE public.job_queue (id int); INSERT INTO public.job_queue VALUES (1)")
            let managed = ManagedConnection(config: db.config)
            #expect(try managed.run { $0.schema } == "public")
            try setup.executeScript("CREATE SCHEMA queuetop; ALTER TABLE public.job_queue SET SCHEMA queuetop")
            do {
                _ = try managed.run { try $0.query("SELECT count(*) FROM \(qt: "job_queue")") }
                Issue.record("the moved table was found in public")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42P01")
                #expect(error.meansSchemaMoved)
                #expect(!error.isConnectionProblem)
            }
            #expect(!managed.isConnected)
            #expect(try managed.run { try $0.query("SELECT count(*)::int FROM \(qt: "job_queue")").scalar(Int.self) } == 1)
            #expect(try managed.run { $0.schema } == "queuetop")
        }
    }

    @Test func schemaMovedMeansUndefinedTableFunctionOrSchema() {
        for state in ["42P01", "42883", "3F000"] {
            #expect(PostgresError(kind: .query, sqlState: state, message: "x").meansSchemaMoved)
        }
        #expect(!PostgresError(kind: .query, sqlState: "23505", message: "x").meansSchemaMoved)
        #expect(!PostgresError(kind: .connectionLost, message: "x").meansSchemaMoved)
    }
}
