/// Which schema holds queuetop's objects, as configured: a name, or a rule for finding it.
///
/// Client SQL never relies on the session `search_path`: a transaction pooler (PgBouncer,
/// Supabase's pooler) hands one server session to many clients, so a `SET search_path` made by
/// one would leak to the others. Instead every queuetop name in client SQL is written
/// `\(qt: "job_queue")` and the connection renders it qualified with the schema it resolved
/// (`Connection.schema`).
public enum SchemaChoice: Sendable, Equatable {
    /// Exactly this schema (`--schema`, `QUEUETOP_SCHEMA`). Build it with `validated(_:)`.
    case named(String)
    /// `preferred` if it holds the table `marker`; else `legacy` if that does (an install from
    /// before the objects moved out of `public`); else `preferred` (nothing installed yet).
    case auto(preferred: String, legacy: String, marker: String)

    /// The default: `queuetop`, or `public` for an install that predates migration 0013.
    public static let standard = SchemaChoice.auto(preferred: "queuetop", legacy: "public", marker: "job_queue")

    /// `.named(name)` once `name` is a plain identifier (letters, digits and underscores, not
    /// starting with a digit, at most 63 bytes), so a typo fails here, before any SQL.
    public static func validated(_ name: String) throws -> SchemaChoice {
        guard isPlainIdentifier(name) else {
            throw PostgresError(kind: .connection, message: "invalid schema name \(name.debugDescription)",
                                hint: "use letters, digits and underscores, starting with a letter or underscore, at most 63 bytes")
        }
        return .named(name)
    }

    /// `--schema` if given, else `QUEUETOP_SCHEMA`, else `standard`.
    public static func resolve(explicit: String?, environment: [String: String]) throws -> SchemaChoice {
        if let explicit, !explicit.isEmpty { return try validated(explicit) }
        if let name = environment["QUEUETOP_SCHEMA"], !name.isEmpty { return try validated(name) }
        return standard
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63 else { return false }
        func letter(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F }
        func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        return letter(first) && bytes.allSatisfy { letter($0) || digit($0) }
    }

    /// Every schema name in the choice is a plain identifier (a `.named` built without
    /// `validated(_:)` is checked again when connecting).
    func validate() throws {
        switch self {
        case .named(let name): _ = try Self.validated(name)
        case .auto(let preferred, let legacy, let marker):
            for name in [preferred, legacy, marker] { _ = try Self.validated(name) }
        }
    }
}
