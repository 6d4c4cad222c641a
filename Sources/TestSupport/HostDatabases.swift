import Foundation
import Postgres

/// The databases users really install queuetop into, built in an unmigrated database: a
/// non-superuser owner (Supabase's `postgres`, a managed cloud's admin role), an application
/// already living in `public` (tables, a view, a function, sequences, pg_trgm and pgcrypto),
/// and Supabase's roles and default privileges. Tests install queuetop into them with the real
/// binary (`queuetop --db … migrate`) connected as the owner, and read the outcome from the
/// catalog: nothing here knows how queuetop lays out its SQL.
///
/// Roles are cluster-wide and the suite shares one cluster between parallel tests: per-test
/// roles have unique names and are dropped at the end; Supabase's fixed role names are created
/// once, under an advisory lock, and kept.
public final class HostDatabase: @unchecked Sendable {
    /// The database's name.
    public let name: String
    /// A superuser connection config for this database (the test harness, not the user).
    public let superuserConfig: ConnectionConfig
    /// The non-superuser LOGIN role (CREATEROLE) that owns the database and schema `public`.
    public let owner: String
    private let dropDatabase: @Sendable () -> Void
    private let lock = NSLock()
    private var createdRoles: [String] = []

    /// queuetop's group roles, as the design names them (docs/SQL_LAYOUT.md, "Roles").
    public static let queuetopRoles = ["queuetop_viewer", "queuetop_producer", "queuetop_operator", "queuetop_worker"]

    /// Runs `body` with a fresh host database in the suite's shared cluster, then drops the
    /// database and every per-test role.
    public static func with<T>(_ body: (HostDatabase) throws -> T) throws -> T {
        let host = try HostDatabase()
        defer { host.drop() }
        return try body(host)
    }

    /// A fresh unmigrated database (`TestDatabase(migrated: false)`) owned by a new
    /// non-superuser owner.
    public convenience init() throws {
        let db = try TestDatabase(migrated: false)
        do {
            try self.init(name: db.name, superuserConfig: db.config, admin: try TestDatabase.adminConfig(), drop: { db.drop() })
        } catch {
            db.drop()
            throw error
        }
    }

    /// A fresh database in a cluster of the test's own (for tests that read the server log).
    public convenience init(cluster: PrivateCluster) throws {
        let name = "qt_host_\(Self.uniqueSuffix())"
        let conn = try Connection.connect(cluster.config)
        defer { conn.close() }
        try conn.executeScript("CREATE DATABASE \"\(name)\" TEMPLATE template0")
        let admin = cluster.config
        try self.init(name: name, superuserConfig: cluster.config.overriding("dbname", name), admin: admin, drop: {
            guard let c = try? Connection.connect(admin) else { return }
            defer { c.close() }
            _ = try? c.executeScript("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
        })
    }

    private init(name: String, superuserConfig: ConnectionConfig, admin: ConnectionConfig, drop: @escaping @Sendable () -> Void) throws {
        self.name = name
        self.superuserConfig = superuserConfig
        self.dropDatabase = drop
        owner = "qt_owner_\(Self.uniqueSuffix())"
        createdRoles.append(owner)
        let su = try Connection.connect(superuserConfig)
        defer { su.close() }
        // Identifiers cannot be bind parameters; every name here is made in this file.
        // A user's database has PostgreSQL's default search_path ("$user", public), not the
        // pg_catalog-only one the suite gives its own databases to catch unqualified names.
        try su.executeScript("""
            ALTER DATABASE "\(name)" RESET search_path;
            CREATE ROLE "\(owner)" LOGIN CREATEROLE NOSUPERUSER;
            ALTER DATABASE "\(name)" OWNER TO "\(owner)";
            ALTER SCHEMA public OWNER TO "\(owner)";
            """)
    }

    static func uniqueSuffix() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
    }

    // MARK: Connections

    public var ownerConfig: ConnectionConfig { superuserConfig.overriding("user", owner) }
    public func config(as role: String) -> ConnectionConfig { superuserConfig.overriding("user", role) }
    /// A conninfo string for the real binary, connecting as `role`.
    public func conninfo(as role: String) -> String { (try? config(as: role).unredactedConninfo()) ?? "" }

    public func superuser() throws -> Connection { try Connection.connect(superuserConfig) }
    public func connect(as role: String) throws -> Connection { try Connection.connect(config(as: role)) }

    // MARK: The real binary

    /// `queuetop --db <as role> ARGS…` to completion.
    public func queuetop(_ arguments: [String], as role: String? = nil, timeout: Double = 60)
        throws -> (status: Int32, stdout: String, stderr: String) {
        try QueuetopBinary.run(["--db", conninfo(as: role ?? owner)] + arguments, timeout: timeout)
    }

    /// Installs (or upgrades) queuetop the way a user does: `queuetop --db … migrate`, connected
    /// as the owner.
    public func migrate(_ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try queuetop(["migrate"] + extra)
    }

    // MARK: Roles

    /// A new LOGIN role, dropped with the database. `groups` must exist.
    public func makeLoginRole(prefix: String = "qt_login", in groups: [String] = [], options: String = "") throws -> String {
        let role = "\(prefix)_\(Self.uniqueSuffix())"
        lock.withLock { createdRoles.append(role) }
        let su = try superuser()
        defer { su.close() }
        let membership = groups.isEmpty ? "" : " IN ROLE " + groups.map { "\"\($0)\"" }.joined(separator: ", ")
        try su.executeScript("CREATE ROLE \"\(role)\" LOGIN \(options)\(membership)")
        return role
    }

    /// Whether a role exists in the cluster.
    public func roleExists(_ role: String) throws -> Bool {
        let su = try superuser()
        defer { su.close() }
        return try su.query("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(role))").scalar()
    }

    // MARK: An application already in the database

    /// What `addApplication` made.
    public struct Application: Sendable {
        /// A LOGIN role that uses the application, through grants and PUBLIC's defaults.
        public let role: String
        /// Statements the application runs, each as the app role; `outcomes` runs them.
        public static let workload: [String] = [
            "SELECT similarity('queuetop', 'queue top')::text",
            "SELECT ('queue' % 'queues')::text",
            "SELECT length(gen_random_bytes(16))::text",
            "SELECT encode(digest('queuetop', 'sha256'), 'hex')",
            "SELECT count(*)::text FROM customers",
            "WITH i AS (INSERT INTO orders (customer_id, amount) VALUES (1, 5) RETURNING id) SELECT 'inserted' FROM i",
            "SELECT (nextval('invoice_numbers') > 0)::text",
            "SELECT order_total(2)::text",
            "SELECT count(*)::text FROM customer_totals WHERE total >= 0",
            "UPDATE customers SET name = name WHERE id = 1",
            "DELETE FROM orders WHERE amount < 0",
        ]
    }

    /// An application in `public`, as the owner made it before queuetop arrived: extensions
    /// (created by a superuser, as a platform does), tables with serial keys, a sequence, a
    /// function, a view, explicit grants to an app LOGIN role, and a default privilege the owner
    /// set for that role.
    public func addApplication() throws -> Application {
        let su = try superuser()
        defer { su.close() }
        try su.executeScript("CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE EXTENSION IF NOT EXISTS pgcrypto;")
        let app = try makeLoginRole(prefix: "qt_app")
        let own = try connect(as: owner)
        defer { own.close() }
        try own.executeScript("""
            CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);
            CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                                 amount numeric NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            CREATE SEQUENCE invoice_numbers;
            CREATE FUNCTION order_total(customer int) RETURNS numeric LANGUAGE sql STABLE
              AS $$ SELECT coalesce(sum(amount), 0) FROM orders WHERE customer_id = customer $$;
            CREATE VIEW customer_totals AS SELECT c.name, order_total(c.id) AS total FROM customers c;
            INSERT INTO customers (name) VALUES ('ada'), ('grace');
            GRANT SELECT, INSERT, UPDATE, DELETE ON customers, orders TO "\(app)";
            GRANT SELECT ON customer_totals TO "\(app)";
            GRANT USAGE, SELECT ON SEQUENCE customers_id_seq, orders_id_seq, invoice_numbers TO "\(app)";
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "\(app)";
            """)
        return Application(role: app)
    }

    /// Each workload statement's outcome as the app role: `ok <first value>` or `error <SQLSTATE> <message>`.
    public func applicationOutcomes(_ app: Application) throws -> [String] {
        let conn = try connect(as: app.role)
        defer { conn.close() }
        return Application.workload.map { sql in
            do {
                let result = try conn.query(Query(unsafeSQL: sql))
                let value: String? = result.isEmpty ? nil : try? result[0].decode(0, as: String?.self)
                return "ok \(value ?? "-")"
            } catch let error as PostgresError {
                return "error \(error.sqlState ?? "?") \(error.message)"
            } catch {
                return "error \(error)"
            }
        }
    }

    // MARK: Supabase

    /// Supabase's roles and privileges: `anon`, `authenticated`, `service_role` (NOLOGIN) and
    /// `authenticator` (LOGIN NOINHERIT, a member of the three; PostgREST connects as it and
    /// runs `SET ROLE anon` for the anon key); `GRANT ALL ON SCHEMA public` to the three, and the
    /// owner's default privileges that give them ALL on every table, function and sequence it
    /// creates in `public` (supabase/postgres init scripts; supabase/realtime dev/postgres/00-setup.sql).
    public func addSupabase() throws {
        try Self.ensureSupabaseRoles(admin: superuserConfig)
        let su = try superuser()
        defer { su.close() }
        try su.executeScript("""
            GRANT ALL ON SCHEMA public TO anon, authenticated, service_role;
            ALTER DEFAULT PRIVILEGES FOR ROLE "\(owner)" IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
            ALTER DEFAULT PRIVILEGES FOR ROLE "\(owner)" IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
            ALTER DEFAULT PRIVILEGES FOR ROLE "\(owner)" IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
            """)
    }

    /// Connects as `authenticator` and becomes `role` (anon, authenticated), as PostgREST does.
    public func connectThroughAuthenticator(as role: String) throws -> Connection {
        let conn = try connect(as: "authenticator")
        do {
            try conn.executeScript("SET ROLE \"\(role)\"")
        } catch {
            conn.close()
            throw error
        }
        return conn
    }

    /// Creates Supabase's cluster-wide roles once. Parallel tests race here: an advisory lock
    /// on the admin database serialises them, and losing a CREATE race still counts as done.
    static func ensureSupabaseRoles(admin: ConnectionConfig) throws {
        let conn = try Connection.connect(admin)
        defer { conn.close() }
        try conn.execute("SELECT pg_advisory_lock(hashtext('queuetop hostile: supabase roles'))")
        defer { _ = try? conn.execute("SELECT pg_advisory_unlock(hashtext('queuetop hostile: supabase roles'))") }
        try conn.executeScript("""
            DO $$
            DECLARE r text;
            BEGIN
              FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator'] LOOP
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                  BEGIN
                    IF r = 'authenticator' THEN
                      EXECUTE 'CREATE ROLE authenticator LOGIN NOINHERIT';
                    ELSIF r = 'service_role' THEN
                      EXECUTE 'CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS';
                    ELSE
                      EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
                    END IF;
                  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                  END;
                END IF;
              END LOOP;
              FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
                IF NOT pg_has_role('authenticator', r, 'MEMBER') THEN
                  BEGIN
                    EXECUTE format('GRANT %I TO authenticator', r);
                  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                  END;
                END IF;
              END LOOP;
            END $$;
            """)
    }

    // MARK: Catalog facts

    /// The schema that holds queuetop's `job_queue`: `queuetop` when there is one, else
    /// wherever an older install put it (`public`), nil when none.
    public static func installSchema(_ conn: Connection) throws -> String? {
        let rows = try conn.query("""
            SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = 'job_queue' AND c.relkind IN ('r', 'p')
            ORDER BY n.nspname = 'queuetop' DESC, n.nspname LIMIT 1
            """)
        return rows.isEmpty ? nil : try rows[0].decode(0, as: String.self)
    }

    /// Owner and privileges of every object in the database, keyed by kind and qualified name:
    /// the database, schemas, relations, columns, routines, types and languages. A NULL ACL is
    /// shown as the default it stands for and items are sorted, so only a real change of who may
    /// do what (or of the grantor) shows as a difference. Temporary schemas are left out.
    public static func aclDigest(_ conn: Connection) throws -> [String: String] {
        func acl(_ column: String, _ kind: String, _ owner: String) -> String {
            "array_to_string(ARRAY(SELECT unnest(coalesce(\(column), acldefault(\(kind), \(owner))))::text ORDER BY 1), ',')"
        }
        let rows = try conn.query(Query(unsafeSQL: """
            SELECT kind || ' ' || ident AS key, coalesce(owner, '-') || ' {' || coalesce(acl, '') || '}' AS value FROM (
              SELECT 'database' AS kind, datname::text AS ident, pg_get_userbyid(datdba)::text AS owner, \(acl("datacl", "'d'", "datdba")) AS acl
                FROM pg_database WHERE datname = current_database()
              UNION ALL SELECT 'schema', nspname::text, pg_get_userbyid(nspowner)::text, \(acl("nspacl", "'n'", "nspowner")) FROM pg_namespace
              UNION ALL SELECT 'relation', n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner)::text,
                     \(acl("c.relacl", "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\"", "c.relowner"))
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              UNION ALL SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname, NULL,
                     array_to_string(ARRAY(SELECT unnest(a.attacl)::text ORDER BY 1), ',')
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE a.attnum > 0 AND NOT a.attisdropped
              UNION ALL SELECT 'routine', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                     pg_get_userbyid(p.proowner)::text, \(acl("p.proacl", "'f'", "p.proowner"))
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              UNION ALL SELECT 'type', n.nspname || '.' || t.typname, pg_get_userbyid(t.typowner)::text, \(acl("t.typacl", "'T'", "t.typowner"))
                FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              UNION ALL SELECT 'language', lanname::text, pg_get_userbyid(lanowner)::text, \(acl("lanacl", "'l'", "lanowner")) FROM pg_language
            ) o
            -- Temporary schemas come and go with sessions (any client's temp table makes one).
            WHERE NOT (ident ~ '^pg_(toast_)?temp_[0-9]+(\\.|$)')
            """))
        var digest: [String: String] = [:]
        for row in rows { digest[try row.decode(0)] = try row.decode(1) }
        return digest
    }

    /// Every default privilege in the database, one line each.
    public static func defaultPrivileges(_ conn: Connection) throws -> [String] {
        try conn.query("""
            SELECT pg_get_userbyid(defaclrole) || ' ' || coalesce(defaclnamespace::regnamespace::text, '(all schemas)')
                   || ' ' || defaclobjtype::text || ' ' || defaclacl::text
            FROM pg_default_acl ORDER BY 1
            """).map { try $0.decode(0) }
    }

    // MARK: Cleanup

    public func drop() {
        dropDatabase()
        guard let conn = try? Connection.connect(superuserConfig.overriding("dbname", "postgres")) else { return }
        defer { conn.close() }
        for role in lock.withLock({ createdRoles }).reversed() {
            _ = try? conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \(role)")
            _ = try? conn.executeScript("DROP ROLE IF EXISTS \"\(role)\"")
        }
    }
}
