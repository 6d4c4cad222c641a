import Foundation

/// A SQL statement whose interpolated values travel as bind parameters, never as SQL text.
///
///     try conn.query("SELECT id FROM \(qt: "job_queue") WHERE queue = \(name) AND priority > \(minimum)")
///
/// becomes `… WHERE queue = $1 AND priority > $2` with two parameters. Interpolating a value is
/// the only way to put one into a `Query`; SQL text can come only from string literals (or,
/// for migration files, from `Query(unsafeSQL:)`).
///
/// A queuetop object (table, view, function, procedure, composite type) is written
/// `\(qt: "job_queue")`:
///
///     try conn.query("SELECT \(qt: "enqueue_job")(\(queue), \(payload)::jsonb)")
///
/// which the connection that runs it renders as `"queuetop".enqueue_job(…)`, with the schema it
/// resolved when it connected (`Connection.schema`). Client SQL never relies on `search_path`:
/// a session setting would leak through a transaction pooler (PgBouncer) to other clients.
/// Functions of `pg_catalog` (`now()`, `to_regclass`, `pg_advisory_xact_lock`, …) stay plain.
public struct Query: Sendable, ExpressibleByStringInterpolation {
    /// The text as written, with a placeholder (`Query.schemaPlaceholder`) where each
    /// `\(qt:)` name's schema goes. What the server receives is `sql(schemaPrefix:)`.
    public private(set) var sql: String
    public private(set) var binds: [String?]
    /// True when `sql` holds a placeholder, so rendering is free for the statements without.
    private var qualifiesNames = false

    /// Stands for "the queuetop schema, quoted, then a dot". SUB (U+001A) is a control
    /// character, which cannot occur in SQL text outside a quoted literal, and queuetop's SQL
    /// never writes one inside a literal: values travel as bind parameters.
    static let schemaPlaceholder: UInt8 = 0x1A

    public init(stringLiteral value: String) {
        sql = value
        binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        sql = stringInterpolation.sql
        binds = stringInterpolation.binds
        qualifiesNames = stringInterpolation.qualifiesNames
    }

    /// SQL that is trusted text from the program itself (migration files). No parameters.
    public init(unsafeSQL: String) {
        sql = unsafeSQL
        binds = []
    }

    /// The text the server receives: each placeholder replaced by `prefix` (`"queuetop".`).
    /// `Connection` calls this for every statement it runs.
    func sql(schemaPrefix prefix: String) -> String {
        guard qualifiesNames else { return sql }
        var out: [UInt8] = []
        out.reserveCapacity(sql.utf8.count + 16 * prefix.utf8.count)
        for byte in sql.utf8 {
            if byte == Self.schemaPlaceholder { out.append(contentsOf: prefix.utf8) } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `"name".` for a schema: the identifier quoted (embedded quotes doubled), then the dot.
    static func schemaPrefix(_ schema: String) -> String {
        "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\"."
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []
        var qualifiesNames = false

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value.postgresBind)
            sql += "$\(binds.count)"
        }

        /// nil becomes SQL NULL. (A separate overload so the compiler knows optionals are meant.)
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value.flatMap(\.postgresBind))
            sql += "$\(binds.count)"
        }

        /// Splices a trusted SQL fragment (an identifier list, an ORDER BY chosen from a fixed
        /// set). Never pass user input here.
        public mutating func appendInterpolation(unsafeRaw fragment: String) { sql += fragment }

        /// A queuetop object: `\(qt: "job_queue")` runs as `"<schema>".job_queue`, the schema
        /// being the one the executing connection resolved. A `StaticString`, so only names
        /// written in the program can get here; write them as created (lower case, unquoted).
        public mutating func appendInterpolation(qt name: StaticString) {
            sql.unicodeScalars.append(Unicode.Scalar(Query.schemaPlaceholder))
            sql += name.description
            qualifiesNames = true
        }
    }
}

/// A Swift value that can travel as a text-format parameter. The server infers the parameter's
/// type from context; write a cast (`\(ids)::uuid[]`) where the context is ambiguous.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }
    /// The value as bound: its text, or nil for SQL NULL (only an empty Optional is NULL).
    var postgresBind: String? { get }
}

extension PostgresEncodable {
    public var postgresBind: String? { postgresText }
}

extension String: PostgresEncodable { public var postgresText: String { self } }
extension Substring: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int64: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int32: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int16: PostgresEncodable { public var postgresText: String { String(self) } }
extension Double: PostgresEncodable {
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return "\(self)"
    }
}
extension Bool: PostgresEncodable { public var postgresText: String { self ? "true" : "false" } }
extension UUID: PostgresEncodable {}  // postgresText: UUIDText.swift
extension Date: PostgresEncodable {
    public var postgresText: String { PostgresTimestamp.format(self) }
}

/// A JSON document passed as text (cast it in SQL: `\(JSONText(raw))::jsonb`).
public struct JSONText: PostgresEncodable, Equatable, Hashable, CustomStringConvertible {
    public let raw: String
    public init(_ raw: String) { self.raw = raw }
    public var postgresText: String { raw }
    public var description: String { raw }

    /// `text` as a JSON string literal (quotes and escapes added).
    public static func string(_ text: String) -> JSONText {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
            ?? Data("\"\"".utf8)
        return JSONText(String(decoding: data, as: UTF8.self))
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    public var postgresText: String { PostgresArrayLiteral.encode(map(\.postgresBind)) }
}

/// Lets `[Int?]` bind as an array with NULL elements (e.g. `retry_after_s int[]`). A top-level
/// nil is bound as SQL NULL by the interpolation overload for optionals.
extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String { self?.postgresText ?? "" }
    public var postgresBind: String? { self?.postgresText }
}

/// Text form of Postgres arrays: `{"a","b",NULL}`. Every element is quoted, so quotes,
/// backslashes, commas and braces inside values are safe.
enum PostgresArrayLiteral {
    /// Works on UTF-8 bytes: the only bytes escaped are the double quote and the backslash,
    /// which never occur inside a multi-byte character. (Walking Characters instead cost a worker
    /// about a tenth of its CPU, encoding complete_jobs' id arrays: perf.)
    static func encode(_ elements: [String?]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(2 + elements.reduce(0) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else { out.append(contentsOf: "NULL".utf8); continue }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses a one-dimensional array literal as the server prints it.
    static func decode(_ text: String) throws -> [String?] {
        var chars = Substring(text)
        // Arrays with non-default bounds print as "[0:2]={…}".
        if chars.first == "[", let eq = chars.firstIndex(of: "=") { chars = chars[chars.index(after: eq)...] }
        guard chars.first == "{", chars.last == "}" else {
            throw PostgresError(kind: .decoding, message: "not an array literal: \(text.prefix(40))")
        }
        chars = chars.dropFirst().dropLast()
        var result: [String?] = []
        if chars.isEmpty { return result }
        var current = ""
        var quoted = false, wasQuoted = false, escaped = false
        for ch in chars {
            if escaped { current.append(ch); escaped = false; continue }
            if quoted {
                if ch == "\\" { escaped = true } else if ch == "\"" { quoted = false } else { current.append(ch) }
                continue
            }
            switch ch {
            case "\"": quoted = true; wasQuoted = true
            case ",":
                result.append(!wasQuoted && current == "NULL" ? nil : current)
                current = ""; wasQuoted = false
            case "{", "}":
                throw PostgresError(kind: .decoding, message: "multi-dimensional arrays are not supported")
            default: current.append(ch)
            }
        }
        result.append(!wasQuoted && current == "NULL" ? nil : current)
        return result
    }
}
