import Foundation

/// One migration file: `NNNN_name.sql`, applied in the order of its number, or a repeatable
/// file `repeatable/NN_concern.sql` (docs/SQL_LAYOUT.md).
public struct MigrationFile: Sendable, Equatable {
    public let name: String
    public let sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// What an install applies: the versioned files in number order, then the repeatable files
/// (the canonical definition of every function, view and trigger) in name order.
public struct MigrationSet: Sendable, Equatable {
    public let versioned: [MigrationFile]
    public let repeatable: [MigrationFile]

    public init(versioned: [MigrationFile], repeatable: [MigrationFile] = []) {
        self.versioned = versioned
        self.repeatable = repeatable
    }
}

/// Finds the migrations that ship with queuetop.
///
/// The files live in the QueueStore target (`Sources/QueueStore/migrations/`, so SwiftPM bundles
/// them as resources next to the binary in `queuetop_QueueStore.resources/`); the top-level
/// `migrations/` of the checkout is a link to that folder, where `psql -f` and Supabase users
/// find them. Installing queuetop elsewhere means copying that
/// folder along, or pointing `QUEUETOP_MIGRATIONS` at a copy of `migrations/`.
public enum MigrationFiles {
    public static let environmentVariable = "QUEUETOP_MIGRATIONS"

    /// The folders searched, in order.
    public static func candidateDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
        var dirs: [URL] = []
        if let explicit = environment[environmentVariable], !explicit.isEmpty {
            dirs.append(URL(fileURLWithPath: explicit))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let binDir = executable.deletingLastPathComponent()
        dirs.append(binDir.appendingPathComponent("queuetop_QueueStore.resources/migrations"))
        dirs.append(binDir.deletingLastPathComponent().appendingPathComponent("share/queuetop/migrations"))
        // Running from a checkout (tests, `swift run`): the source folder itself.
        dirs.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("migrations"))
        return dirs
    }

    /// Loads every `NNNN_name.sql` from the first candidate folder that has any.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [MigrationFile] {
        try loadSet(environment: environment).versioned
    }

    /// The versioned and repeatable files of the first candidate folder that has any.
    /// `QUEUETOP_MIGRATIONS` naming a folder without migrations is an error, never a silent
    /// fallback to the bundled files: the operator asked for that folder.
    public static func loadSet(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MigrationSet {
        if let explicit = environment[environmentVariable], !explicit.isEmpty {
            let set = try loadSet(from: URL(fileURLWithPath: explicit))
            if set.versioned.isEmpty {
                throw QueueStoreError.invalidInput(
                    "\(environmentVariable) names \(explicit), which holds no NNNN_name.sql migration files")
            }
            return set
        }
        let candidates = candidateDirectories(environment: environment)
        for dir in candidates {
            let set = try loadSet(from: dir)
            if !set.versioned.isEmpty { return set }
        }
        throw QueueStoreError.invalidInput(
            "no migration files found; looked in: \(candidates.map(\.path).joined(separator: ", ")). "
            + "Set \(environmentVariable) to the folder that holds NNNN_name.sql files")
    }

    /// One folder's versioned files and its `repeatable/` subfolder's files.
    public static func loadSet(from dir: URL) throws -> MigrationSet {
        MigrationSet(versioned: try load(from: dir), repeatable: try loadRepeatable(from: dir.appendingPathComponent("repeatable")))
    }

    /// `NN_concern.sql` files in name order; a missing folder has none.
    static func loadRepeatable(from dir: URL) throws -> [MigrationFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            let url = dir.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path), let sql = String(data: data, encoding: .utf8) else {
                throw QueueStoreError.invalidInput("cannot read \(url.path) as UTF-8 text")
            }
            return MigrationFile(name: name, sql: sql)
        }
    }

    /// The migrations in one folder, sorted by number. A file that does not follow the naming
    /// scheme is ignored; two files with one number are an error.
    public static func load(from dir: URL) throws -> [MigrationFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        let migrationNames = names.filter(isMigrationName).sorted()
        var seen: [String: String] = [:]
        for name in migrationNames {
            let number = String(name.prefix(4))
            if let other = seen[number] {
                throw QueueStoreError.invalidInput("migrations \(other) and \(name) share the number \(number)")
            }
            seen[number] = name
        }
        return try migrationNames.map { name in
            let url = dir.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path), let sql = String(data: data, encoding: .utf8) else {
                throw QueueStoreError.invalidInput("cannot read migration \(url.path) as UTF-8 text")
            }
            return MigrationFile(name: name, sql: sql)
        }
    }

    static func isMigrationName(_ name: String) -> Bool {
        let chars = Array(name)
        guard name.hasSuffix(".sql"), chars.count > 9, chars[4] == "_" else { return false }
        return chars[0..<4].allSatisfy(\.isNumber)
    }
}
