import CLibPQ

/// An error from PostgreSQL or from libpq.
///
/// `description` is what the program prints: the server's message, which never contains the
/// connection password (libpq names host and port, not credentials). `debugDescription` adds the
/// detail, hint and SQLSTATE for logs.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Could not connect (bad URI, unreachable host, wrong password, too many connections).
        case connection
        /// The connection broke during or between queries; reconnecting may help.
        case connectionLost
        /// The server rejected a statement (it carries a SQLSTATE).
        case query
        /// A value in a result could not be decoded into the Swift type asked for.
        case decoding
    }

    public let kind: Kind
    /// Five-character SQLSTATE, e.g. "23505" unique_violation; nil for client-side errors.
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let hint: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = message
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        if let hint, !hint.isEmpty { text += "; hint: \(hint)" }
        return text
    }

    public var debugDescription: String {
        "PostgresError(kind: \(kind), sqlState: \(sqlState ?? "-"), message: \(message), detail: \(detail ?? "-"), hint: \(hint ?? "-"))"
    }

    /// True when the error means the server or the network went away, so the caller should
    /// reconnect (with backoff) rather than report a bad statement.
    public var isConnectionProblem: Bool {
        switch kind {
        case .connection, .connectionLost: return true
        case .query:
            // Class 08 is connection exceptions; 57P01..57P03 are admin/crash shutdown and
            // "cannot connect now" during startup or recovery.
            guard let s = sqlState else { return false }
            return s.hasPrefix("08") || s == "57P01" || s == "57P02" || s == "57P03"
        case .decoding: return false
        }
    }

    /// True for the errors a statement gets when queuetop's objects are not where this
    /// connection resolved them: 42P01 undefined_table, 42883 undefined_function, 3F000
    /// invalid_schema_name. That happens when `queuetop migrate` moves the install (from
    /// `public` to `queuetop`) under a running client, so long-lived connections drop the link
    /// and reconnect, which resolves the schema again (`Connection.schema`).
    public var meansSchemaMoved: Bool {
        guard kind == .query, let s = sqlState else { return false }
        return s == "42P01" || s == "42883" || s == "3F000"
    }

    static func fromResult(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let p = PQresultErrorField(result, code) else { return nil }
            return String(cString: p)
        }
        let state = field(QT_DIAG_SQLSTATE)
        var message = field(QT_DIAG_MESSAGE_PRIMARY)
            ?? String(cString: PQresultErrorMessage(result)).trimmingWhitespace()
        if message.isEmpty { message = "the server reported an error without a message" }
        return PostgresError(kind: .query, sqlState: state, message: message,
                             detail: field(QT_DIAG_MESSAGE_DETAIL), hint: field(QT_DIAG_MESSAGE_HINT))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
