import Foundation
import Postgres
import TestSupport
import Testing

/// queuetop installed into the databases users really have (docs/SQL_LAYOUT.md): a
/// non-superuser owner, an application already in `public`, Supabase's roles and default
/// privileges, and attackers holding each of queuetop's roles. Everything is installed by the
/// real binary (`queuetop --db … migrate`, connected as the owner) and judged from the catalog
/// and from what the database allows each role: nothing here depends on how the SQL is laid out
/// inside the schema.
@Suite struct HostileInstallTests {
    // MARK: helpers

    /// Runs `sql` and returns the SQLSTATE it failed with, nil when it succeeded.
    static func refusal(_ conn: Connection, _ sql: String) -> String? {
        do {
            _ = try conn.query(Query(unsafeSQL: sql))
            return nil
        } catch let error as PostgresError {
            return error.sqlState ?? "connection: \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    static func listing(_ lines: [String], limit: Int = 25) -> String {
        lines.prefix(limit).joined(separator: "\n") + (lines.count > limit ? "\n… and \(lines.count - limit) more" : "")
    }

    /// Records one issue, "<count> <what>:" and the first lines, when `found` is not empty.
    static func expectNone(_ found: [String], _ what: String, limit: Int = 25, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !found.isEmpty else { return }
        Issue.record("\(found.count) \(what):\n\(listing(found, limit: limit))", sourceLocation: sourceLocation)
    }

    /// The versioned files deployed databases applied by hand (0001…0012), read from the checkout.
    static func legacyFiles() throws -> [(name: String, sql: String)] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/QueueStore/migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { name in
            guard name.hasSuffix(".sql"), let number = Int(name.prefix(4)), name.dropFirst(4).first == "_" else { return false }
            return (1...12).contains(number)
        }.sorted()
        return try names.map { ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Installs as the owner and returns the schema queuetop landed in; records failures.
    static func install(_ host: HostDatabase, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try host.migrate()
        #expect(result.status == 0, "queuetop migrate as the non-superuser owner failed: \(result.stderr)", sourceLocation: sourceLocation)
        let su = try host.superuser()
        defer { su.close() }
        let schema = try HostDatabase.installSchema(su)
        #expect(schema == "queuetop", "queuetop's objects are in schema \(schema ?? "(none)"), not in their own schema queuetop",
                sourceLocation: sourceLocation)
        return schema ?? "queuetop"
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    // MARK: a. the application stays intact

    @Test func installingAsANonSuperuserOwnerLeavesTheApplicationExactlyAsItWas() throws {
        try HostDatabase.with { host in
            let app = try host.addApplication()
            let su = try host.superuser()
            defer { su.close() }
            let aclBefore = try HostDatabase.aclDigest(su)
            let defaultsBefore = try HostDatabase.defaultPrivileges(su)
            let outcomesBefore = try host.applicationOutcomes(app)
            try #require(outcomesBefore.allSatisfy { $0.hasPrefix("ok") }, "the app fixture itself is broken: \(outcomesBefore)")

            _ = try Self.install(host)

            // No owner or privilege changed on anything queuetop did not create.
            let aclAfter = try HostDatabase.aclDigest(su)
            let changed = aclBefore.keys.sorted().compactMap { key -> String? in
                let after = aclAfter[key] ?? "(gone)"
                return after == aclBefore[key] ? nil : "\(key): \(aclBefore[key]!)  ->  \(after)"
            }
            Self.expectNone(changed, "owners or privileges of objects queuetop did not create changed during the install")
            let defaultsAfter = try HostDatabase.defaultPrivileges(su)
            #expect(defaultsAfter == defaultsBefore,
                    "installing changed the database's default privileges:\nbefore:\n\(defaultsBefore.joined(separator: "\n"))\nafter:\n\(defaultsAfter.joined(separator: "\n"))")

            // The app role runs exactly what it ran before: its tables, sequences, function, view,
            // similarity() (pg_trgm) and gen_random_bytes()/digest() (pgcrypto).
            let outcomesAfter = try host.applicationOutcomes(app)
            let differences = zip(HostDatabase.Application.workload, zip(outcomesBefore, outcomesAfter))
                .filter { $0.1.0 != $0.1.1 }.map { "\($0.0)\n  before: \($0.1.0)\n  after:  \($0.1.1)" }
            Self.expectNone(differences, "application statements behave differently after the install")

            // What the owner creates later is the app's: no queuetop role may touch a new table,
            // and a new function is callable by the app as PostgreSQL's defaults say.
            let own = try host.connect(as: host.owner)
            defer { own.close() }
            try own.executeScript("""
                CREATE TABLE later_secrets (secret text);
                CREATE FUNCTION later_function() RETURNS int LANGUAGE sql AS 'SELECT 1';
                """)
            var leaks: [String] = []
            for role in HostDatabase.queuetopRoles where try host.roleExists(role) {
                let any: Bool = try su.query("""
                    SELECT has_table_privilege(\(role), 'public.later_secrets', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                    """).scalar()
                if any { leaks.append(role) }
            }
            #expect(leaks.isEmpty, "a table the owner created in public after the install is open to \(leaks)")
            let appConn = try host.connect(as: app.role)
            defer { appConn.close() }
            #expect(Self.refusal(appConn, "SELECT later_function()") == nil, "the app cannot call a function its owner created after the install")
            #expect(Self.refusal(appConn, "SELECT * FROM later_secrets") == nil, "the app's own default privilege no longer applies")
        }
    }

    /// An application whose tables have the names every job system uses keeps them.
    @Test func applicationTablesNamedLikeQueuetopsStayTheApplications() throws {
        try HostDatabase.with { host in
            let own = try host.connect(as: host.owner)
            defer { own.close() }
            try own.executeScript("""
                CREATE TABLE audit_log (id int PRIMARY KEY, who text NOT NULL);
                CREATE TABLE queues (name text PRIMARY KEY, region text NOT NULL);
                INSERT INTO audit_log VALUES (1, 'app');
                INSERT INTO queues VALUES ('checkout', 'eu');
                """)
            func appState() throws -> String {
                try own.query("""
                    SELECT (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attrelid, attnum)
                              FROM pg_attribute WHERE attrelid IN ('public.audit_log'::regclass, 'public.queues'::regclass)
                                AND attnum > 0 AND NOT attisdropped)
                           || ' | ' || (SELECT string_agg(who, ',') FROM public.audit_log)
                           || ' | ' || (SELECT string_agg(name || region, ',') FROM public.queues)
                    """).scalar()
            }
            let before = try appState()
            let schema = try Self.install(host)
            #expect(try appState() == before)
            let su = try host.superuser()
            defer { su.close() }
            let ours: Bool = try su.query("""
                SELECT to_regclass(format('%I.audit_log', \(schema)::text)) IS NOT NULL
                   AND to_regclass(format('%I.queues', \(schema)::text)) IS NOT NULL AND \(schema)::text <> 'public'
                """).scalar()
            #expect(ours, "queuetop's own audit_log and queues are missing from its schema")
        }
    }

    // MARK: b. upgrades as the non-superuser owner

    @Test func migrateAgainIsANoOpForTheNonSuperuserOwner() throws {
        try HostDatabase.with { host in
            let schema = try Self.install(host)
            let su = try host.superuser()
            defer { su.close() }
            func bookkeeping() throws -> String {
                try su.query(Query(unsafeSQL: """
                    SELECT coalesce(string_agg(row_to_json(m)::text, E'\\n' ORDER BY row_to_json(m)::text), '(empty)')
                    FROM \(Self.quoted(schema)).schema_migrations m
                    """)).scalar()
            }
            let recordsBefore = try bookkeeping()
            let aclBefore = try HostDatabase.aclDigest(su)
            let again = try host.migrate()
            #expect(again.status == 0, "a second migrate failed: \(again.stderr)")
            #expect(try bookkeeping() == recordsBefore, "a second migrate applied something")
            let aclAfter = try HostDatabase.aclDigest(su)
            let changed = Set(aclBefore.keys).union(aclAfter.keys).sorted().filter { aclBefore[$0] != aclAfter[$0] }
                .map { "\($0): \(aclBefore[$0] ?? "(new)") -> \(aclAfter[$0] ?? "(gone)")" }
            Self.expectNone(changed, "objects or privileges changed by a second migrate")
            let status = try host.migrate(["--status"])
            #expect(status.status == 0, "migrate --status failed: \(status.stderr)")
            let pending = status.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("pending") }
            Self.expectNone(pending, "files pending after an install (migrate --status)")
        }
    }

    /// The seeds' users pasted 0001…0012 into the database by hand (Supabase's SQL editor), into
    /// `public`, as the owner, with no bookkeeping. `queuetop migrate` must take that over.
    @Test func aHandAppliedInstallInPublicUpgradesAsTheNonSuperuserOwner() throws {
        try HostDatabase.with { host in
            let own = try host.connect(as: host.owner)
            defer { own.close() }
            let files = try Self.legacyFiles()
            try #require(files.count == 12, "expected 0001…0012, found \(files.map(\.name))")
            for file in files {
                do {
                    try own.transaction { try $0.executeScript(file.sql) }
                } catch {
                    Issue.record("applying \(file.name) by hand as the owner failed: \(error)")
                    return
                }
            }
            let legacyJob: String = try own.query("SELECT enqueue_job('legacy', 'send')::text").scalar()

            let upgrade = try host.migrate()
            #expect(upgrade.status == 0, "migrate over a hand-applied install failed: \(upgrade.stderr)")
            let su = try host.superuser()
            defer { su.close() }
            #expect(try HostDatabase.installSchema(su) == "queuetop")
            let leftInPublic: [String] = try su.query("""
                SELECT 'relation ' || relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','v','m','p','S','f')
                UNION ALL SELECT 'routine ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
                UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e','d','c')
                  AND (typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = typrelid) = 'c')
                ORDER BY 1
                """).map { try $0.decode(0) }
            Self.expectNone(leftInPublic, "queuetop objects still in public after the upgrade")
            let kept: Bool = try su.query("""
                SELECT to_regclass('queuetop.job_queue') IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass('queuetop.job_queue'))
                """).scalar()
            if kept {
                let found: Int = try su.query("SELECT count(*)::int FROM queuetop.job_queue WHERE id::text = \(legacyJob)").scalar()
                #expect(found == 1, "the job enqueued before the upgrade is gone")
            }
            let status = try host.migrate(["--status"])
            #expect(status.status == 0, "migrate --status failed: \(status.stderr)")
            let pending = status.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("pending") }
            Self.expectNone(pending, "files pending after the upgrade (migrate --status)")
            let again = try host.migrate()
            #expect(again.status == 0, "migrate after the upgrade failed: \(again.stderr)")
        }
    }

    // MARK: c. Supabase: anon and authenticated reach nothing

    @Test func supabaseAnonAndAuthenticatedCanNeitherReadNorCallAnything() throws {
        try HostDatabase.with { host in
            try host.addSupabase()
            let schema = try Self.install(host)
            let su = try host.superuser()
            defer { su.close() }
            let relations: [String] = try su.query("""
                SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = \(schema) AND c.relkind IN ('r','v','m','p','f','S') ORDER BY 1
                """).map { try $0.decode(0) }
            let routines = try su.query("""
                SELECT p.oid::int8 AS oid, format('%I.%I', n.nspname, p.proname) AS name, p.prokind::text AS kind,
                       p.prorettype = 'trigger'::regtype AS trigger,
                       coalesce((SELECT string_agg('NULL::' || format_type(t, NULL), ', ' ORDER BY i)
                                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i)), '') AS nulls
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = \(schema) ORDER BY 2, 1
                """).map { row in
                    (oid: try row.decode("oid", as: Int64.self), name: try row.decode("name", as: String.self),
                     kind: try row.decode("kind", as: String.self), trigger: try row.decode("trigger", as: Bool.self),
                     nulls: try row.decode("nulls", as: String.self))
                }
            #expect(relations.count >= 20, "only \(relations.count) relations found in \(schema)")
            #expect(routines.count >= 40, "only \(routines.count) routines found in \(schema)")

            for role in ["anon", "authenticated"] {
                let conn = try host.connectThroughAuthenticator(as: role)
                defer { conn.close() }
                try conn.executeScript("SET statement_timeout = '5s'; SET lock_timeout = '1s'")
                var reached: [String] = []
                for relation in relations {
                    let state = Self.refusal(conn, "SELECT 1 FROM \(relation) LIMIT 0")
                    if state != "42501" { reached.append("read \(relation): \(state ?? "allowed")") }
                }
                for routine in routines {
                    let may: Bool = try su.query("SELECT has_function_privilege(\(role), \(routine.oid)::oid, 'EXECUTE')").scalar()
                    if may { reached.append("may execute \(routine.name)") }
                    if routine.trigger { continue }
                    let call = routine.kind == "p" ? "CALL \(routine.name)(\(routine.nulls))"
                                                   : "SELECT * FROM \(routine.name)(\(routine.nulls))"
                    let state = Self.refusal(conn, call)
                    if state != "42501" { reached.append("\(call): \(state ?? "ran")") }
                }
                // The anon key's obvious moves.
                for sql in ["SELECT \(Self.quoted(schema)).enqueue_job('q', 't')",
                            "DELETE FROM \(Self.quoted(schema)).job_queue",
                            "INSERT INTO \(Self.quoted(schema)).job_queue (queue, job_type) VALUES ('q', 't')",
                            "UPDATE \(Self.quoted(schema)).queues SET paused = true"] {
                    let state = Self.refusal(conn, sql)
                    if state != "42501" { reached.append("\(sql): \(state ?? "allowed")") }
                }
                Self.expectNone(reached, "ways \(role) reaches queuetop (expected permission denied, 42501)")
            }
        }
    }

    // MARK: d. temporary objects cannot hijack SECURITY DEFINER functions

    /// A temporary object named like one of the schema's relations or types, and the scripts
    /// that plant it, tried in order: a view (with INSTEAD OF triggers, so writes plan too)
    /// typed like the original, the same with text columns, a table with triggers; for a type,
    /// a domain whose CHECK runs on every cast.
    struct Shadow {
        let name: String
        let kind: String
        let scripts: [String]
    }

    /// Sets up, in `conn`'s session, what every shadow calls: `pg_temp.qt_pwn()` records
    /// `current_user` in `qt.pwned` (set_config) and, since an error rolls a setting back, as the
    /// role's oid in a temporary sequence (setval is not transactional) when it is not `attacker`.
    /// Also plants functions and an operator named like built-ins a definer function calls
    /// (PostgreSQL never looks in pg_temp for those; kept to show it). Returns what failed.
    static func plantPwnMachinery(_ conn: Connection, attacker: String) throws -> [String] {
        let attackerLiteral = "'" + attacker.replacingOccurrences(of: "'", with: "''") + "'"
        try conn.executeScript("""
            CREATE SEQUENCE pg_temp.qt_pwn_seq MINVALUE 0 START 0;
            GRANT ALL ON SEQUENCE pg_temp.qt_pwn_seq TO PUBLIC;
            CREATE FUNCTION pg_temp.qt_pwn() RETURNS text LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_catalog.set_config('qt.pwned', current_user::text, false);
              IF current_user::text OPERATOR(pg_catalog.<>) \(attackerLiteral) THEN
                PERFORM pg_catalog.setval('pg_temp.qt_pwn_seq',
                  (SELECT oid FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) current_user)::bigint);
              END IF;
              RETURN current_user::text;
            END $$;
            CREATE FUNCTION pg_temp.qt_pwn_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_temp.qt_pwn();
              IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END $$;
            """)
        var failed: [String] = []
        for script in [
            "CREATE FUNCTION pg_temp.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT pg_catalog.now() FROM (SELECT pg_temp.qt_pwn()) s $$",
            "CREATE FUNCTION pg_temp.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$ SELECT pg_catalog.clock_timestamp() FROM (SELECT pg_temp.qt_pwn()) s $$",
            "CREATE FUNCTION pg_temp.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT pg_catalog.lower($1) FROM (SELECT pg_temp.qt_pwn()) s $$",
            "CREATE FUNCTION pg_temp.gen_random_uuid() RETURNS uuid LANGUAGE sql AS $$ SELECT pg_catalog.gen_random_uuid() FROM (SELECT pg_temp.qt_pwn()) s $$",
            "CREATE FUNCTION pg_temp.qt_text_eq(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT $1 OPERATOR(pg_catalog.=) $2 FROM (SELECT pg_temp.qt_pwn()) s $$",
            "CREATE OPERATOR pg_temp.= (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.qt_text_eq)",
        ] where (try? conn.transaction { try $0.executeScript(script) }) == nil {
            failed.append(String(script.prefix(50)))
        }
        return failed
    }

    /// A shadow for every table, view and composite/enum/domain type of `schema`.
    static func shadows(_ conn: Connection, schema: String) throws -> [Shadow] {
        var shadows: [Shadow] = []
        let relations = try conn.query("""
            SELECT c.relname::text AS name,
                   string_agg(format('NULL::%s AS %I', format_type(a.atttypid, a.atttypmod), a.attname), ', ' ORDER BY a.attnum) AS typed,
                   string_agg(format('NULL::text AS %I', a.attname), ', ' ORDER BY a.attnum) AS untyped,
                   string_agg(format('%I text', a.attname), ', ' ORDER BY a.attnum) AS columns
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = \(schema) AND c.relkind IN ('r','v','m','p','f')
            GROUP BY c.relname ORDER BY 1
            """)
        for row in relations {
            let raw: String = try row.decode("name")
            let name = quoted(raw)
            let typed: String = try row.decode("typed"), untyped: String = try row.decode("untyped"), columns: String = try row.decode("columns")
            let asView = { (list: String) in """
                CREATE TEMP VIEW \(name) AS SELECT \(list) FROM (SELECT pg_temp.qt_pwn() AS p) s WHERE s.p IS NULL;
                GRANT ALL ON pg_temp.\(name) TO PUBLIC;
                CREATE TRIGGER qt_pwn INSTEAD OF INSERT OR UPDATE OR DELETE ON pg_temp.\(name)
                  FOR EACH ROW EXECUTE FUNCTION pg_temp.qt_pwn_trigger();
                """ }
            let asTable = """
                CREATE TEMP TABLE \(name) (\(columns));
                GRANT ALL ON pg_temp.\(name) TO PUBLIC;
                CREATE TRIGGER qt_pwn BEFORE INSERT OR UPDATE OR DELETE ON pg_temp.\(name)
                  FOR EACH ROW EXECUTE FUNCTION pg_temp.qt_pwn_trigger();
                """
            shadows.append(Shadow(name: raw, kind: "relation", scripts: [asView(typed), asView(untyped), asTable]))
        }
        let types: [String] = try conn.query("""
            SELECT t.typname::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = \(schema) AND (t.typtype IN ('e', 'd')
                  OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
            ORDER BY 1
            """).map { try $0.decode(0) }
        for type in types {
            shadows.append(Shadow(name: type, kind: "type",
                                  scripts: ["CREATE DOMAIN pg_temp.\(quoted(type)) AS text CHECK (pg_temp.qt_pwn() IS NOT NULL)"]))
        }
        return shadows
    }

    /// Plants `shadow`; false when no script worked.
    static func plant(_ shadow: Shadow, on conn: Connection) -> Bool {
        shadow.scripts.contains { script in (try? conn.transaction { try $0.executeScript(script) }) != nil }
    }

    static func remove(_ shadow: Shadow, from conn: Connection) throws {
        let name = "pg_temp." + quoted(shadow.name)
        if shadow.kind == "type" {
            try conn.executeScript("DROP DOMAIN IF EXISTS \(name)")
        } else {
            try conn.executeScript("DROP VIEW IF EXISTS \(name); DROP TABLE IF EXISTS \(name)")
        }
    }

    /// The identifiers each function of `schema` mentions in its source, by function name.
    static func sourceWords(_ conn: Connection, schema: String) throws -> [String: Set<String>] {
        var words: [String: Set<String>] = [:]
        for row in try conn.query("""
            SELECT p.proname::text AS name, lower(p.prosrc) AS source FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = \(schema)
            """) {
            let source: String = try row.decode("source")
            let tokens = source.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
            words[try row.decode("name"), default: []].formUnion(tokens)
        }
        return words
    }

    /// A plausible value of each argument type a queuetop function takes.
    static func plausible(_ type: String) -> String {
        switch type {
        case "text", "character varying", "name", "citext": return "'q'::\(type)"
        case "uuid": return "gen_random_uuid()"
        case "uuid[]": return "ARRAY[gen_random_uuid()]"
        case "text[]": return "ARRAY['q']::text[]"
        case "integer", "bigint", "smallint", "numeric", "double precision", "real": return "1::\(type)"
        case "integer[]", "bigint[]": return "ARRAY[1]::\(type)"
        case "boolean": return "false"
        case "jsonb", "json": return "'{}'::\(type)"
        case "jsonb[]": return "ARRAY['{}'::jsonb]"
        case "timestamp with time zone": return "now()"
        case "interval": return "'1 second'::interval"
        default: return "NULL::\(type)"
        }
    }

    @Test func temporaryObjectsCannotHijackAnySecurityDefinerFunction() throws {
        try HostDatabase.with { host in
            try host.addSupabase()
            let schema = try Self.install(host)
            // Attackers: a login member of each of queuetop's roles, and Supabase's anon key.
            var attackers: [(name: String, label: String, connect: () throws -> Connection)] = []
            for group in HostDatabase.queuetopRoles {
                guard try host.roleExists(group) else {
                    Issue.record("the role \(group) does not exist after the install")
                    continue
                }
                let login = try host.makeLoginRole(in: [group])
                attackers.append((login, "\(login) (\(group))", { try host.connect(as: login) }))
            }
            attackers.append(("anon", "anon (authenticator, SET ROLE anon)", { try host.connectThroughAuthenticator(as: "anon") }))

            var hijacks: [String] = [], calls = 0
            for attacker in attackers {
                let conn = try attacker.connect()
                defer { conn.close() }
                try conn.executeScript("SET statement_timeout = '5s'; SET lock_timeout = '1s'; SET client_min_messages = warning")
                let machineryFailed = try Self.plantPwnMachinery(conn, attacker: attacker.name)
                #expect(machineryFailed.isEmpty, "\(attacker.name) could not plant: \(machineryFailed)")
                let shadows = try Self.shadows(conn, schema: schema)
                #expect(shadows.count >= 20, "only \(shadows.count) names to shadow in \(schema)")

                let functions = try conn.query("""
                    SELECT format('%I.%I', n.nspname, p.proname) AS name, p.proname::text AS bare, p.prokind::text AS kind,
                           coalesce((SELECT string_agg(format_type(t, NULL), '|' ORDER BY i)
                                     FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i)), '') AS types
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = \(schema) AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
                      AND has_function_privilege(p.oid, 'EXECUTE') AND has_schema_privilege(n.oid, 'USAGE')
                    ORDER BY 1, 4
                    """).map { row in
                        (name: try row.decode("name", as: String.self), bareName: try row.decode("bare", as: String.self),
                         kind: try row.decode("kind", as: String.self), types: try row.decode("types", as: String.self))
                    }

                /// Calls `function` with NULLs and with plausible arguments; records a hijack when
                /// a shadow ran as anyone but the attacker. False when the session died.
                func attack(_ function: (name: String, bareName: String, kind: String, types: String), shadowing: String) throws -> Bool {
                    let types = function.types.isEmpty ? [] : function.types.split(separator: "|").map(String.init)
                    let variants = types.isEmpty ? [[]] : [types.map { "NULL::\($0)" }, types.map(Self.plausible)]
                    for arguments in variants {
                        let list = arguments.joined(separator: ", ")
                        let call = function.kind == "p" ? "CALL \(function.name)(\(list))" : "SELECT * FROM \(function.name)(\(list))"
                        // Plans cached by an earlier call keep the names they resolved then: a new
                        // shadow would go unseen (an attacker would use a fresh session).
                        try conn.executeScript("DISCARD PLANS; SELECT set_config('qt.pwned', '', false), setval('pg_temp.qt_pwn_seq', 0)")
                        let outcome = Self.refusal(conn, call)
                        calls += 1
                        guard conn.isConnected else {
                            Issue.record("\(attacker.name)'s session ended during \(call): \(outcome ?? "")")
                            return false
                        }
                        let row = try conn.query("""
                            SELECT coalesce(current_setting('qt.pwned', true), '') AS setting,
                                   (SELECT CASE WHEN last_value = 0 THEN '' ELSE pg_get_userbyid(last_value::oid)::text END
                                    FROM pg_temp.qt_pwn_seq) AS ran_as
                            """)[0]
                        let setting: String = try row.decode("setting"), ranAs: String = try row.decode("ran_as")
                        if let who = [ranAs, setting].first(where: { !$0.isEmpty && $0 != attacker.name }) {
                            hijacks.append("\(attacker.label), shadowing \(shadowing): \(call) ran the attacker's object as \(who)"
                                           + (who == host.owner ? " (the function owner)" : "") + " [\(outcome ?? "ok")]")
                        }
                    }
                    return true
                }

                // Round 1: every name shadowed at once, every definer function the role may call.
                let unplanted = shadows.filter { !Self.plant($0, on: conn) }.map { "\($0.kind) \($0.name)" }
                #expect(unplanted.isEmpty, "\(attacker.name) could not plant shadows of \(unplanted)")
                // The shadows work: in the attacker's own session an unqualified name finds them.
                #expect(Self.refusal(conn, "SELECT count(*) FROM job_queue") == nil)
                let own: String = try conn.query("SELECT coalesce(current_setting('qt.pwned', true), '')").scalar()
                #expect(own == attacker.name, "the shadow of job_queue did not run in \(attacker.name)'s own session")
                var alive = true
                for function in functions where alive { alive = try attack(function, shadowing: "everything") }
                for shadow in shadows where alive { try Self.remove(shadow, from: conn) }

                // Round 2: one name at a time (a full set of shadows can make a function fail to
                // plan before any of them runs), against each function that reads the name
                // itself or through functions it calls (found from the sources, as an attacker
                // reading pg_proc would).
                let words = try Self.sourceWords(conn, schema: schema)
                for shadow in shadows where alive {
                    var reaching: Set<String> = Set(words.filter { $0.value.contains(shadow.name) }.keys)
                    while true {
                        let more = Set(words.filter { !reaching.contains($0.key) && !$0.value.isDisjoint(with: reaching) }.keys)
                        if more.isEmpty { break }
                        reaching.formUnion(more)
                    }
                    let targets = functions.filter { reaching.contains($0.bareName) }
                    if targets.isEmpty || !Self.plant(shadow, on: conn) { continue }
                    for function in targets where alive { alive = try attack(function, shadowing: "\(shadow.kind) \(shadow.name)") }
                    if alive { try Self.remove(shadow, from: conn) }
                }
            }
            #expect(calls > 0, "no role may execute any SECURITY DEFINER function: nothing was attacked")
            Self.expectNone(hijacks, "calls ran an attacker's temporary object with another role's rights", limit: 80)
        }
    }

    // MARK: e. the worker role runs schedules

    @Test(.timeLimit(.minutes(1))) func theWorkerRoleRunsASecondlyScheduleWithoutPermissionErrors() throws {
        let cluster = try PrivateCluster(prefix: "hostile")
        defer { cluster.destroy() }
        let host = try HostDatabase(cluster: cluster)
        defer { host.drop() }
        let schema = try Self.install(host)
        let operatorRole = try host.makeLoginRole(in: ["queuetop_operator"])
        let workerRole = try host.makeLoginRole(in: ["queuetop_worker"])
        let add = try host.queuetop(["schedule", "add", "tick", "* * * * * *", "ticks", "tick"], as: operatorRole)
        try #require(add.status == 0, "an operator cannot add a schedule: \(add.stderr)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qt-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let configPath = dir.appendingPathComponent("handlers.json").path
        try Data(#"{"handlers": {"*": {"kind": "noop"}}}"#.utf8).write(to: URL(fileURLWithPath: configPath))
        let stderrPath = dir.appendingPathComponent("worker.stderr").path
        let serverLog = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".pg/\(cluster.name)/server.log").path
        let logStart = (try? FileManager.default.attributesOfItem(atPath: serverLog)[.size] as? Int) ?? 0

        let worker = try QueuetopBinary.start(
            ["--db", host.conninfo(as: workerRole), "worker", "--queues", "ticks", "--config", configPath, "--grace", "1"],
            stderrLog: stderrPath)
        Thread.sleep(forTimeInterval: 6)
        worker.terminate()
        let deadline = Date().addingTimeInterval(5)
        while worker.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
        worker.waitUntilExit()

        let su = try host.superuser()
        defer { su.close() }
        let counts = try su.query(Query(unsafeSQL: """
            SELECT count(*)::int AS enqueued, count(*) FILTER (WHERE status = 'completed')::int AS completed
            FROM \(Self.quoted(schema)).job_queue WHERE queue = 'ticks'
            """))[0]
        let enqueued: Int = try counts.decode("enqueued"), completed: Int = try counts.decode("completed")
        let workerLog = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        #expect(enqueued >= 4, "the schedule enqueued \(enqueued) jobs in 6 s; worker log:\n\(workerLog.suffix(2000))")
        #expect(completed >= 3, "the worker completed \(completed) of \(enqueued) scheduled jobs")
        let deniedInWorker = workerLog.split(separator: "\n").filter { $0.lowercased().contains("permission denied") }
        Self.expectNone(deniedInWorker.map(String.init), "permission errors in the worker's log")
        let logData = FileManager.default.contents(atPath: serverLog) ?? Data()
        #expect(!logData.isEmpty, "no server log at \(serverLog)")
        let serverLines = String(decoding: logData.dropFirst(logStart), as: UTF8.self).split(separator: "\n").map(String.init)
        let deniedInServer = serverLines.enumerated().filter { $0.element.lowercased().contains("permission denied") }
            .map { i, line in line + (i + 1 < serverLines.count ? "\n  " + serverLines[i + 1] : "") }
        Self.expectNone(deniedInServer, "permission errors in the server log while the worker ran")
    }
}
