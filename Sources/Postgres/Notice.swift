import CLibPQ
import Foundation

/// A message the server sends outside a statement's result: NOTICE, WARNING, INFO from
/// `RAISE` in a function or trigger, and the FATAL "terminating connection …" that arrives on
/// an idle connection before the server closes it.
///
/// libpq's default writes these raw to stderr, which is the terminal: onto the curses screen,
/// into log lines, with whatever escape sequences and newlines a function's text holds. Every
/// `Connection` instead hands them to `Notices.handler`, which the program sets once: the CLI
/// writes one safe line to stderr (the default), the worker pool writes a log line, the
/// dashboard sends them to its worker log or drops them.
public struct Notice: Sendable, CustomStringConvertible {
    /// NOTICE, WARNING, INFO, LOG, DEBUG, FATAL… as the server sent it (not localized when it can be).
    public let severity: String
    public let message: String
    public let detail: String?
    public let hint: String?
    public let sqlState: String?

    public init(severity: String, message: String, detail: String? = nil, hint: String? = nil, sqlState: String? = nil) {
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.sqlState = sqlState
    }

    /// One safe line (`SafeText.oneLine`): "NOTICE: message (detail); hint: hint".
    public var description: String {
        var text = "\(severity): \(message)"
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        if let hint, !hint.isEmpty { text += "; hint: \(hint)" }
        return SafeText.oneLine(text)
    }

    init(result: OpaquePointer) {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let p = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: p)
        }
        // 'V' is the severity never translated (9.6+), 'S' the localized one.
        severity = field("V") ?? field("S") ?? "NOTICE"
        var primary = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingWhitespace()
        if primary.isEmpty { primary = "(a server notice without a message)" }
        message = primary
        detail = field("D")
        hint = field("H")
        sqlState = field("C")
    }
}

/// Where every connection's notices go (see `Notice`).
public enum Notices {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: @Sendable (Notice) -> Void = standardError

    /// One line on stderr, "queuetop: server NOTICE: …", made safe: what a CLI command wants.
    public static let standardError: @Sendable (Notice) -> Void = { notice in
        FileHandle.standardError.write(Data("queuetop: server \(notice.description)\n".utf8))
    }

    /// Drops every notice (a program whose terminal belongs to curses and that keeps no log).
    public static let discard: @Sendable (Notice) -> Void = { _ in }

    /// Replaces the handler for every connection, open or not. It runs on the thread that is
    /// talking to the server, inside the connection's lock: it must not use that connection.
    public static func setHandler(_ handler: @escaping @Sendable (Notice) -> Void) {
        lock.withLock { current = handler }
    }

    static func deliver(_ notice: Notice) {
        let handler = lock.withLock { current }
        handler(notice)
    }

    /// Installs the receiver on a libpq connection: from then on libpq never prints a notice itself.
    static func install(on conn: OpaquePointer) {
        _ = PQsetNoticeReceiver(conn, { _, result in
            guard let result else { return }
            Notices.deliver(Notice(result: result))
        }, nil)
    }
}
