import Foundation
import Postgres
import QueueStore

/// A private database for one test, cloned from a migrated template (pgqueuer's trick:
/// `CREATE DATABASE … TEMPLATE` copies files, which is far faster than migrating each time).
///
/// The server is the private cluster `scripts/test` starts; its URL arrives in DATABASE_URL.
/// Tests never mock SQL: they run against this real PostgreSQL.
///
/// Product code must qualify every queuetop name (`\(qt: "job_queue")`), never relying on a
/// `search_path`. So each test database's default `search_path` is `pg_catalog` alone: product
/// code given `config` (or the child binary given `conninfo`) fails on any name it forgot to
/// qualify. Tests' own SQL assertions use `connect()`, whose session looks in `queuetop`, then
/// `public` (where installs from before 0013 live), so they may write plain names.
public final class TestDatabase: Sendable {
    public let name: String
    /// For product code: no search_path, so unqualified names fail.
    public let config: ConnectionConfig
    /// For the test's own SQL: `config` with `search_path = queuetop, public`.
    public let sqlConfig: ConnectionConfig
    private let admin: ConnectionConfig

    /// Runs `body` with a fresh migrated database and drops it afterwards.
    public static func with<T>(migrated: Bool = true, _ body: (TestDatabase) throws -> T) throws -> T {
        let db = try TestDatabase(migrated: migrated)
        defer { db.drop() }
        return try body(db)
    }

    public static func with<T>(migrated: Bool = true, _ body: (TestDatabase) async throws -> T) async throws -> T {
        let db = try TestDatabase(migrated: migrated)
        defer { db.drop() }
        return try await body(db)
    }

    public init(migrated: Bool = true) throws {
        admin = try Self.adminConfig()
        let template = migrated ? try TemplateDatabase.shared.name(admin: admin) : "template0"
        name = "qt_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        config = admin.overriding("dbname", name)
        sqlConfig = config.overriding("options", "-c search_path=queuetop,public")
        let conn = try Connection.connect(admin)
        defer { conn.close() }
        try Self.createDatabase(name, template: template, on: conn)
        try conn.executeScript("ALTER DATABASE \"\(name)\" SET search_path = pg_catalog")
    }

    /// A new connection to this test's database for the test's own SQL (plain names resolve:
    /// `sqlConfig`). Product code under test should get `config`.
    public func connect() throws -> Connection { try Connection.connect(sqlConfig) }

    /// A connection string for a child process (the real `queuetop` binary).
    public var conninfo: String { (try? config.unredactedConninfo()) ?? "" }

    public func drop() {
        guard let conn = try? Connection.connect(admin) else { return }
        defer { conn.close() }
        _ = try? conn.executeScript("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    }

    public static func adminConfig() throws -> ConnectionConfig {
        guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw PostgresError(kind: .connection, message:
                "DATABASE_URL is not set: run the tests with scripts/test, which starts a private PostgreSQL")
        }
        return try ConnectionConfig(url)
    }

    static func createDatabase(_ name: String, template: String, on conn: Connection) throws {
        // Database names are identifiers, not values: these come from this file, never from input.
        // A template in use by another connection makes CREATE DATABASE fail; retry briefly.
        var lastError: Error?
        for _ in 0..<50 {
            do {
                try conn.executeScript("CREATE DATABASE \"\(name)\" TEMPLATE \"\(template)\"")
                return
            } catch let error as PostgresError where error.sqlState == "55006" {
                lastError = error
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        throw lastError!
    }
}

/// The migrated template, built once per test process and per set of migration files (its name
/// carries their checksum, so editing a migration builds a new one).
final class TemplateDatabase: @unchecked Sendable {
    static let shared = TemplateDatabase()
    private let lock = NSLock()
    private var built: String?

    func name(admin: ConnectionConfig) throws -> String {
        try lock.withLock {
            if let built { return built }
            let set = try MigrationFiles.loadSet()
            let conn = try Connection.connect(admin)
            defer { conn.close() }
            let everyFile = set.versioned + set.repeatable.map { MigrationFile(name: "repeatable/" + $0.name, sql: $0.sql) }
            let digest: String = try conn.query(
                "SELECT left(md5(\(everyFile.map { $0.name + "\n" + $0.sql }.joined(separator: "\u{1}"))), 12)").scalar()
            let name = "qt_template_\(digest)"
            // Several test processes may race to build it: the advisory lock makes one build it.
            try conn.execute("SELECT pg_advisory_lock(hashtext(\(name)))")
            defer { _ = try? conn.execute("SELECT pg_advisory_unlock(hashtext(\(name)))") }
            let exists: Bool = try conn.query(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = \(name) AND datistemplate)").scalar()
            if !exists {
                let building = name + "_building"
                try conn.executeScript("DROP DATABASE IF EXISTS \"\(building)\" WITH (FORCE)")
                try conn.executeScript("CREATE DATABASE \"\(building)\" TEMPLATE template0")
                let target = try Connection.connect(admin.overriding("dbname", building))
                try MigrationRunner(set).migrate(on: target)
                target.close()
                try conn.executeScript("ALTER DATABASE \"\(building)\" RENAME TO \"\(name)\"")
                try conn.executeScript("ALTER DATABASE \"\(name)\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
            }
            built = name
            return name
        }
    }
}
