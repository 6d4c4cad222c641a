import Foundation
import Postgres

/// Applies migration files in order, each in its own transaction, and records each file's name
/// and SHA-256 checksum in `schema_migrations`. Running it again is a no-op; a file that was
/// applied and has since changed is refused, naming the file, before anything is applied.
public struct MigrationRunner: Sendable {
    public struct Status: Sendable, Equatable {
        public struct Applied: Sendable, Equatable {
            public let name: String
            public let checksum: String
            public let appliedAt: Date
        }
        public var applied: [Applied]
        public var pending: [String]
        /// Applied files that are no longer on disk (not an error: a newer binary may have been
        /// rolled back; reported so the operator knows).
        public var missing: [String]
    }

    public let files: [MigrationFile]

    public init(files: [MigrationFile]) { self.files = files }

    /// Serialises concurrent `queuetop migrate` runs (several hosts starting at once).
    static let advisoryLockKey: Int64 = 0x7175_6575_6574_6f70  // "queuetop"

    public func status(on conn: Connection) throws -> Status {
        try ensureTable(on: conn)
        let rows = try conn.query("SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name")
        let applied = try rows.map {
            Status.Applied(name: try $0.decode("name"), checksum: try $0.decode("checksum"), appliedAt: try $0.decode("applied_at"))
        }
        let appliedNames = Set(applied.map(\.name))
        let onDisk = Set(files.map(\.name))
        return Status(applied: applied,
                      pending: files.map(\.name).filter { !appliedNames.contains($0) },
                      missing: applied.map(\.name).filter { !onDisk.contains($0) })
    }

    /// Applies what is pending and returns the names applied (empty when up to date).
    @discardableResult
    public func migrate(on conn: Connection) throws -> [String] {
        try conn.execute("SELECT pg_advisory_lock(\(Self.advisoryLockKey))")
        defer { _ = try? conn.execute("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))") }
        let current = try status(on: conn)
        try verifyChecksums(applied: current.applied, on: conn)
        var done: [String] = []
        for file in files where current.pending.contains(file.name) {
            do {
                try conn.transaction { tx in
                    try tx.executeScript(file.sql)
                    try tx.execute("""
                        INSERT INTO schema_migrations (name, checksum)
                        VALUES (\(file.name), encode(sha256(convert_to(\(file.sql), 'UTF8')), 'hex'))
                        """)
                }
            } catch let error as PostgresError {
                throw QueueStoreError.migrationFailed(file: file.name, reason: error.description)
            }
            done.append(file.name)
        }
        return done
    }

    private func verifyChecksums(applied: [Status.Applied], on conn: Connection) throws {
        for record in applied {
            guard let file = files.first(where: { $0.name == record.name }) else { continue }
            let checksum: String = try conn.query(
                "SELECT encode(sha256(convert_to(\(file.sql), 'UTF8')), 'hex')").scalar()
            if checksum != record.checksum {
                throw QueueStoreError.invalidInput(
                    "migration \(file.name) was changed after it was applied (checksum \(checksum.prefix(12)) on disk, "
                    + "\(record.checksum.prefix(12)) applied); applied migrations must not be edited: add a new file instead")
            }
        }
    }

    /// Creates the bookkeeping table when missing. Only when missing: CREATE TABLE IF NOT EXISTS
    /// on an existing table raises a NOTICE that libpq prints, noise on every `migrate` run.
    private func ensureTable(on conn: Connection) throws {
        let exists: Bool = try conn.query("SELECT to_regclass('schema_migrations') IS NOT NULL").scalar()
        if exists { return }
        try conn.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name       text PRIMARY KEY,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text NOT NULL DEFAULT session_user
            )
            """)
    }
}
