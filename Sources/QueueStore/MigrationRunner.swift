import Foundation
import Postgres

/// Installs or upgrades queuetop in one transaction by sending `InstallScript` (the same SQL a
/// Supabase user pastes as `migrations/queuetop.sql`), and reports what a database holds.
///
/// Running it again is a no-op; a versioned file that was applied and has since changed is
/// refused, naming the file, before anything is applied; a failing file rolls everything back.
public struct MigrationRunner: Sendable {
    public struct Status: Sendable, Equatable {
        public struct Applied: Sendable, Equatable {
            public let name: String
            public let checksum: String
            public let appliedAt: Date
            /// 'applied' by an installer, 'adopted' from a hand-applied install, 'repeatable'.
            public let how: String
        }
        /// Where the install lives: the target schema, an older install's schema (`public`
        /// before 0013, moved by the next `migrate`), or nil when there is none yet.
        public var home: String?
        /// 'recorded', 'hand' (objects applied by hand, no bookkeeping: `migrate` adopts them)
        /// or 'none'.
        public var found: String
        public var applied: [Applied]
        public var pending: [String]
        /// Repeatable files whose text differs from what was applied (all are re-applied together).
        public var repeatablePending: [String]
        /// Applied files that are no longer on disk (not an error: a newer binary may have been
        /// rolled back; reported so the operator knows).
        public var missing: [String]
        /// Work `migrate` does after the install's transaction that is not done yet, in words:
        /// indexes it builds concurrently that are missing or INVALID (a paste of
        /// migrations/queuetop.sql over a table with rows, an interrupted build), 0028's copy of
        /// id tails. Searches work meanwhile, slower. Only for a recorded install in the target schema.
        public var onlinePending: [String] = []
    }

    public let files: [MigrationFile]
    public let repeatable: [MigrationFile]
    /// The schema queuetop is installed into (docs/SQL_LAYOUT.md).
    public let schema: String

    public init(files: [MigrationFile], repeatable: [MigrationFile] = [], schema: String = InstallScript.defaultSchema) {
        self.files = files
        self.repeatable = repeatable
        self.schema = schema
    }

    public init(_ set: MigrationSet, schema: String = InstallScript.defaultSchema) {
        self.init(files: set.versioned, repeatable: set.repeatable, schema: schema)
    }

    var script: InstallScript { InstallScript(versioned: files, repeatable: repeatable) }

    /// What the database holds, in a transaction that is rolled back: nothing changes.
    public func status(on conn: Connection) throws -> Status {
        try InstallScript.validateSchema(schema)
        try conn.executeScript("BEGIN")
        defer { _ = try? conn.executeScript("ROLLBACK") }
        try conn.executeScript(InstallScript.locateFunction)
        let located = try conn.query("SELECT home, how FROM pg_temp.queuetop_install_home(\(schema))")
        let home: String? = try located.first?.decode("home")
        let found: String = try located.first?.decode("how") ?? "none"
        var applied: [Status.Applied] = []
        if let home, found == "recorded" {
            let hasHow: Bool = try conn.query("""
                SELECT EXISTS (SELECT 1 FROM pg_attribute
                                WHERE attrelid = format('%I.schema_migrations', \(home)::text)::regclass
                                  AND attname = 'how' AND NOT attisdropped)
                """).scalar()
            applied = try readBookkeeping(schema: home, hasHow: hasHow, on: conn)
        }
        let appliedNames = Set(applied.map(\.name))
        let shipped = Set(files.map(\.name) + repeatable.map { "repeatable/" + $0.name })
        var repeatablePending: [String] = []
        // Every file's checksum in one round trip, computed as the install script records it.
        let checksums: [String] = try conn.query("""
            SELECT encode(sha256(convert_to(t, 'UTF8')), 'hex') AS c FROM unnest(\(repeatable.map(\.sql))::text[]) WITH ORDINALITY AS f(t, n)
            ORDER BY n
            """).map { try $0.decode("c") }
        for (file, checksum) in zip(repeatable, checksums)
        where applied.first(where: { $0.name == "repeatable/" + file.name })?.checksum != checksum {
            repeatablePending.append("repeatable/" + file.name)
        }
        var onlinePending: [String] = []
        // An install that `migrate` will move first (public, before 0013) gets its online work
        // after the move: its status already says so.
        if home == schema, found == "recorded" {
            onlinePending = try OnlineIndexes.missing(schema: schema, on: conn)
                .map { "index \($0) (`queuetop migrate` builds it, concurrently)" }
                + IdTailBackfill.pending(schema: schema, on: conn)
        }
        return Status(home: home, found: found, applied: applied,
                      pending: files.map(\.name).filter { !appliedNames.contains($0) },
                      repeatablePending: repeatablePending,
                      missing: applied.map(\.name).filter { !shipped.contains($0) },
                      onlinePending: onlinePending)
    }

    private func readBookkeeping(schema home: String, hasHow: Bool, on conn: Connection) throws -> [Status.Applied] {
        // `home` came from pg_namespace through the locate function; quote it as an identifier.
        let quoted = "\"" + home.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let how = hasHow ? "how" : "'applied'::text AS how"
        let rows = try conn.query(Query(unsafeSQL:
            "SELECT name, checksum, applied_at, \(how) FROM \(quoted).schema_migrations ORDER BY name"))
        return try rows.map {
            Status.Applied(name: try $0.decode("name"), checksum: try $0.decode("checksum"),
                           appliedAt: try $0.decode("applied_at"), how: try $0.decode("how"))
        }
    }

    /// Applies what is pending, all in one transaction, then builds the online indexes
    /// (OnlineIndexes: CREATE INDEX CONCURRENTLY, outside that transaction, so writers never wait
    /// for a build) and copies the id tails of jobs older than 0028 (IdTailBackfill), and returns
    /// what it did: the names applied (versioned files, then `repeatable/…` files), then
    /// `index NAME (built concurrently)` for each index built, then what the copy did; empty
    /// when up to date.
    @discardableResult
    public func migrate(on conn: Connection) throws -> [String] {
        try InstallScript.validateSchema(schema)
        let before = try status(on: conn)
        do {
            try runInstall(on: conn)
        } catch let error as PostgresError {
            let file = (files.map(\.name) + repeatable.map { "repeatable/" + $0.name })
                .first { error.message.contains($0) } ?? "install"
            throw QueueStoreError.migrationFailed(file: file, reason: error.description)
        }
        let ranVersioned = !before.pending.isEmpty
        let repeatables = ranVersioned || !before.repeatablePending.isEmpty ? repeatable.map { "repeatable/" + $0.name } : []
        var online: [String]
        do {
            online = try OnlineIndexes.build(schema: schema, on: conn).map { "index \($0) (built concurrently)" }
        } catch let error as PostgresError {
            // The install itself committed; the next `migrate` drops what this build left
            // INVALID and builds it again.
            throw QueueStoreError.migrationFailed(file: "online indexes", reason: error.description)
        }
        do {
            let tails = try IdTailBackfill.run(schema: schema, on: conn)
            if tails.copied > 0 { online.append("job_queue_ids: \(tails.copied) id tails copied (0028)") }
            if tails.droppedOldIndex { online.append("index \(IdTailBackfill.oldIndex) dropped (concurrently)") }
        } catch let error as PostgresError {
            // Each batch committed on its own; the next `migrate` goes on from the last one.
            throw QueueStoreError.migrationFailed(file: "id tails (0028)", reason: error.description)
        }
        return before.pending + repeatables + online
    }

    /// The install script in one transaction, tried again when the server picks it as a
    /// deadlock's victim (40P01). An upgrade that moves objects (0013) takes ACCESS EXCLUSIVE
    /// locks one table at a time while running workers read several tables per transaction, so
    /// a cycle can form; the server then aborts one side. When that is the install, nothing of it
    /// is left (one transaction) and running it again is the right answer; the workers' side
    /// retries by itself. Seen in LiveSchemaMoveTests under load.
    private func runInstall(on conn: Connection, attempts: Int = 3) throws {
        for attempt in 1...attempts {
            do {
                // An upgrade may rewrite big tables or build indexes: no liveness bound (Patience).
                try conn.withPatience(.unbounded) {
                    try conn.transaction { tx in
                        _ = try tx.query("SELECT set_config('queuetop.schema', \(schema), true)")
                        try tx.executeScript(script.body)
                    }
                }
                return
            } catch let error as PostgresError where error.sqlState == "40P01" && attempt < attempts {
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
    }
}
