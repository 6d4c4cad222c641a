import Foundation
import Postgres
import TOMLKit

/// One named database of the contexts file: where its primary is (a URL or a libpq service),
/// an optional hot standby for reads, and labels. A context with a replica and no primary is
/// read-only.
public struct ContextDefinition: Sendable, Equatable {
    public var name: String
    /// The primary's connection string (`url`), or `service=NAME` (`service`); nil when the
    /// context has only a replica.
    public var primary: String?
    /// A hot standby's connection string: health views and lists are read there.
    public var replica: String?
    /// Where queuetop's objects live in this database (default: found when connecting).
    public var schema: String?
    public var region: String?
    public var shard: String?

    public init(name: String, primary: String?, replica: String? = nil, schema: String? = nil,
                region: String? = nil, shard: String? = nil) {
        self.name = name; self.primary = primary; self.replica = replica; self.schema = schema
        self.region = region; self.shard = shard
    }

    /// Only a replica: every action and every writing command is refused, naming the context.
    public var isReadOnly: Bool { primary == nil }

    /// "region=eu shard=a", or "" without labels (for lists).
    public var labelText: String {
        [region.map { "region=\($0)" }, shard.map { "shard=\($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    /// The connection for writes and actions: the primary. Throws for a replica-only context.
    public func writeConnection() throws -> ConnectionConfig {
        guard let primary else {
            throw ContextsFileError("context \(name) has only a replica: it is read-only (add url or service to act or write)")
        }
        return try ConnectionConfig(primary)
    }

    /// The connection for reads: the replica when there is one, else the primary.
    public func readConnection() throws -> ConnectionConfig {
        try ConnectionConfig(replica ?? primary ?? "")
    }

    /// The server `readConnection()` reads from, as the JSON outputs name it (`reads_from` in
    /// `contexts list --json` and `status --all-contexts --json`): "replica" or "primary".
    public var readsFrom: String { replica == nil ? "primary" : "replica" }
}

/// A queue spread over several contexts: `queuetop enqueue --group NAME` picks one of `shards`
/// by `ShardHash`, and the all view sums the queue over them.
public struct ContextGroup: Sendable, Equatable {
    public var name: String
    public var queue: String
    /// Context names, in file order: the order `ShardHash` indexes.
    public var shards: [String]
    public init(name: String, queue: String, shards: [String]) { self.name = name; self.queue = queue; self.shards = shards }
}

/// A contexts file that is wrong, said in one line with the file (and line when known) and
/// what to change. Nothing starts on one.
public struct ContextsFileError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = SafeText.oneLine(description) }
}

/// `contexts.toml`, parsed and checked as a whole: every context has somewhere to connect, no
/// string carries a password, every key is known, every shard names a context.
public struct ContextsFile: Sendable {
    public let path: String
    /// Sorted by name.
    public let contexts: [ContextDefinition]
    /// Sorted by name.
    public let groups: [ContextGroup]

    public func context(named name: String) throws -> ContextDefinition {
        guard let context = contexts.first(where: { $0.name == name }) else {
            let known = contexts.map(\.name).joined(separator: ", ")
            throw ContextsFileError("no context \(name) in \(path) (it has: \(known.isEmpty ? "none" : known))")
        }
        return context
    }

    public func group(named name: String) throws -> ContextGroup {
        guard let group = groups.first(where: { $0.name == name }) else {
            let known = groups.map(\.name).joined(separator: ", ")
            throw ContextsFileError("no group \(name) in \(path) (it has: \(known.isEmpty ? "none" : known))")
        }
        return group
    }

    /// Reads and checks the file; a missing or unreadable file is an error naming it.
    public static func load(path: String) throws -> ContextsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ContextsFileError("cannot read the contexts file \(path): "
                + (FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ContextsFileError("\(path): not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    static let topKeys: Set<String> = ["contexts", "groups"]
    static let contextKeys: Set<String> = ["url", "service", "replica", "schema", "region", "shard"]
    static let groupKeys: Set<String> = ["queue", "shards"]

    public static func parse(_ text: String, path: String) throws -> ContextsFile {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            // toml++ names the line of a syntax error and of a table or key defined twice.
            throw ContextsFileError("\(path):\(error.source.begin.line): \(error.description)")
        }
        let locate = TableLines(text: text, path: path)
        for key in root.keys where !topKeys.contains(key) {
            throw ContextsFileError("\(path): unknown key \(quoted(key)) (the file has [contexts.NAME] and [groups.NAME] tables)")
        }
        let contextTables = try tables(root["contexts"], what: "contexts", path: path)
        var contexts: [ContextDefinition] = []
        for (name, table) in contextTables {
            let at = locate.prefix("contexts", name)
            try checkName(name, at: at, kind: "context")
            var values: [String: String] = [:]
            for key in table.keys {
                guard contextKeys.contains(key) else {
                    throw ContextsFileError("\(at)context \(name): unknown key \(quoted(key)) (known: \(contextKeys.sorted().joined(separator: ", ")))")
                }
                guard let value = table[key]?.string else {
                    throw ContextsFileError("\(at)context \(name): \(key) must be a string")
                }
                values[key] = value
            }
            if values["url"] != nil, values["service"] != nil {
                throw ContextsFileError("\(at)context \(name): give url or service, not both")
            }
            let primary = values["url"] ?? values["service"].map { "service=\(quotedConninfo($0))" }
            guard primary != nil || values["replica"] != nil else {
                throw ContextsFileError("\(at)context \(name): missing url (or service, or a replica for a read-only context)")
            }
            for key in ["url", "service", "replica"] {
                guard let value = values[key] else { continue }
                guard !value.isEmpty else { throw ContextsFileError("\(at)context \(name): \(key) is empty") }
                let config: ConnectionConfig
                do {
                    config = try ConnectionConfig(key == "service" ? "service=\(quotedConninfo(value))" : value)
                } catch let error as PostgresError {
                    throw ContextsFileError("\(at)context \(name): \(key): \(error.description)")
                }
                // The file is read by whoever can read the home directory's backups: a secret
                // belongs in ~/.pgpass, PGPASSWORD or a service file, not here.
                if config.containsPassword {
                    throw ContextsFileError("\(at)context \(name): \(key) contains a password, which the contexts file refuses; "
                        + "put it in ~/.pgpass (or PGPASSFILE, PGPASSWORD, a pg_service.conf entry) and remove it from the file")
                }
            }
            if let schema = values["schema"] {
                do { _ = try SchemaChoice.resolve(explicit: schema, environment: [:]) } catch let error as PostgresError {
                    throw ContextsFileError("\(at)context \(name): schema: \(error.description)")
                }
            }
            contexts.append(ContextDefinition(name: name, primary: primary, replica: values["replica"], schema: values["schema"],
                                              region: values["region"], shard: values["shard"]))
        }
        let known = Set(contexts.map(\.name))
        let readOnly = Set(contexts.filter(\.isReadOnly).map(\.name))
        var groups: [ContextGroup] = []
        for (name, table) in try tables(root["groups"], what: "groups", path: path) {
            let at = locate.prefix("groups", name)
            try checkName(name, at: at, kind: "group")
            for key in table.keys where !groupKeys.contains(key) {
                throw ContextsFileError("\(at)group \(name): unknown key \(quoted(key)) (known: queue, shards)")
            }
            guard let queue = table["queue"]?.string, !queue.isEmpty else {
                throw ContextsFileError("\(at)group \(name): missing queue (the queue that is sharded, e.g. queue = \"emails\")")
            }
            guard let list = table["shards"]?.array else {
                throw ContextsFileError("\(at)group \(name): missing shards (a list of context names, e.g. shards = [\"a\", \"b\"])")
            }
            var shards: [String] = []
            for item in list {
                guard let shard = item.string else { throw ContextsFileError("\(at)group \(name): shards must be context names (strings)") }
                guard known.contains(shard) else {
                    throw ContextsFileError("\(at)group \(name): shard \(quoted(shard)) is not a context of this file")
                }
                guard !readOnly.contains(shard) else {
                    throw ContextsFileError("\(at)group \(name): shard \(quoted(shard)) has only a replica, and a shard takes the group's writes")
                }
                guard !shards.contains(shard) else {
                    throw ContextsFileError("\(at)group \(name): shard \(quoted(shard)) is listed twice (a key would map to it twice as often)")
                }
                shards.append(shard)
            }
            guard !shards.isEmpty else { throw ContextsFileError("\(at)group \(name): shards is empty") }
            groups.append(ContextGroup(name: name, queue: queue, shards: shards))
        }
        return ContextsFile(path: path, contexts: contexts.sorted { $0.name < $1.name }, groups: groups.sorted { $0.name < $1.name })
    }

    /// `[contexts.*]` or `[groups.*]`: a table whose values are all tables.
    private static func tables(_ value: TOMLValueConvertible?, what: String, path: String) throws -> [(String, TOMLTable)] {
        guard let value else { return [] }
        guard let table = value.table else { throw ContextsFileError("\(path): \(what) must be tables ([\(what).NAME])") }
        return try table.keys.sorted().map { key in
            guard let inner = table[key]?.table else {
                throw ContextsFileError("\(path): \(what).\(key) must be a table ([\(what).\(key)] with its keys below)")
            }
            return (key, inner)
        }
    }

    /// Names are typed on command lines and shown in headers: letters, digits, `-`, `_`, `.`.
    private static func checkName(_ name: String, at: String, kind: String) throws {
        let allowed = name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.".unicodeScalars.contains($0) }
        guard !name.isEmpty, name.count <= 63, allowed else {
            throw ContextsFileError("\(at)\(kind) name \(quoted(name)) is not allowed: use 1 to 63 ASCII letters, digits, '-', '_' or '.'")
        }
    }

    /// A name or key from the file as an error message shows it. It is normally a word, but a
    /// connection string pasted in the wrong place (`[contexts."postgresql://app:pw@db/q"]`, a
    /// shard list of URLs) would otherwise be printed back with its password: the URL's
    /// `user:password@` and a conninfo `password=` value are masked.
    private static func quoted(_ text: String) -> String {
        let masked = redactingURLCredentials(text)
            .replacingOccurrences(of: #"(?i)(password\s*=\s*)('(\\.|[^'])*'|\S+)"#, with: "$1***", options: .regularExpression)
        return "\"\(SafeText.oneLine(masked))\""
    }

    /// A service name as one conninfo value.
    private static func quotedConninfo(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

/// Where `[contexts.NAME]` and `[groups.NAME]` start in the text, so a semantic error names a
/// line as a syntax error does (TOMLKit keeps no positions for values).
struct TableLines {
    let lines: [Substring]
    let path: String
    init(text: String, path: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        self.path = path
    }

    /// "path:LINE: " for the table's header, or "path: " when it is written another way.
    func prefix(_ section: String, _ name: String) -> String {
        let forms = ["[\(section).\(name)]", "[\(section).\"\(name)\"]", "[\(section).'\(name)']"]
        for (i, line) in lines.enumerated() {
            let compact = line.filter { !$0.isWhitespace }
            if forms.contains(where: { compact.hasPrefix($0) }) { return "\(path):\(i + 1): " }
        }
        return "\(path): "
    }
}

/// Which contexts file applies: `--contexts FILE`, else `$QUEUETOP_CONTEXTS`, else
/// `$XDG_CONFIG_HOME/queuetop/contexts.toml` (`~/.config/queuetop/contexts.toml`).
public enum ContextsLocation {
    public struct Choice: Sendable, Equatable {
        public var path: String
        /// Named by the operator (flag or variable): a missing file is an error then, while the
        /// default path may simply not exist.
        public var explicit: Bool
    }

    public static func resolve(explicit: String?, environment: [String: String]) -> Choice {
        if let explicit, !explicit.isEmpty { return Choice(path: explicit, explicit: true) }
        if let path = environment["QUEUETOP_CONTEXTS"], !path.isEmpty { return Choice(path: path, explicit: true) }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.config")
        return Choice(path: config + "/queuetop/contexts.toml", explicit: false)
    }

    /// The file, or nil when none was named and the default path does not exist.
    public static func loadIfPresent(explicit: String?, environment: [String: String]) throws -> ContextsFile? {
        let choice = resolve(explicit: explicit, environment: environment)
        if !choice.explicit, !FileManager.default.fileExists(atPath: choice.path) { return nil }
        return try ContextsFile.load(path: choice.path)
    }

    /// The file, which must exist (`--context`, `contexts list`, `--group`, `--all-contexts`).
    public static func load(explicit: String?, environment: [String: String]) throws -> ContextsFile {
        let choice = resolve(explicit: explicit, environment: environment)
        guard FileManager.default.fileExists(atPath: choice.path) else {
            throw ContextsFileError("no contexts file at \(choice.path)\(choice.explicit ? "" : " (or set $QUEUETOP_CONTEXTS, or pass --contexts FILE)"); "
                + "see docs/SCALING.md for its format")
        }
        return try ContextsFile.load(path: choice.path)
    }
}
