/// Why the terminal could not be started, with what to do about it.
public enum TerminalError: Error, Hashable, Sendable, CustomStringConvertible {
    case notATerminal
    case unsupportedTerminal(term: String)
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .notATerminal:
            return "standard input/output is not a terminal; run the dashboard in a terminal, or use `queuetop status` for scripts"
        case .unsupportedTerminal(let term):
            return "cannot open the terminal (TERM=\(term.isEmpty ? "unset" : term)); try TERM=xterm-256color or TERM=vt100"
        case .system(let call, let errno):
            return "\(call) failed (errno \(errno))"
        }
    }
}
