import Foundation

/// How long queuetop waits for a server that has stopped answering (docs/RELIABILITY.md,
/// "Liveness").
///
/// TCP keepalives alone cannot tell: a proxy that stops forwarding after connect (a frozen
/// PgBouncer, a NAT box, a hung load balancer) keeps the TCP connection alive, its kernel acks
/// every probe. So every wait for a server's answer also has a client-side bound, and a link
/// that stays silent past it is declared lost, closed (never reused mid-protocol) and reconnected
/// through `ManagedConnection`.
public enum Liveness {
    /// The default bound, in seconds, on a silent link (`QUEUETOP_LIVENESS_TIMEOUT` changes it).
    public static let defaultTimeout: Double = 15
    public static let environmentVariable = "QUEUETOP_LIVENESS_TIMEOUT"

    /// The bound in force: `QUEUETOP_LIVENESS_TIMEOUT` (seconds, 1…86400) or the default.
    public static func timeout(environment: [String: String]) throws -> Double {
        guard let text = environment[environmentVariable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return defaultTimeout
        }
        guard let seconds = Double(text), seconds >= 1, seconds <= 86_400 else {
            throw PostgresError(kind: .connection,
                                message: "\(environmentVariable) must be a number of seconds between 1 and 86400, got \(SafeText.oneLine(text).debugDescription)")
        }
        return seconds
    }

    /// An idle connection (a LISTEN waiting for notifications) sends a cheap round trip after
    /// this long without hearing from the server, so a frozen link is noticed while idle too:
    /// at most `idleCheck(timeout) + timeout` after the link froze.
    public static func idleCheck(_ timeout: Double) -> Double { max(0.5, min(5, timeout / 3)) }

    /// libpq's TCP settings derived from the bound, each only where the connection string does
    /// not set its own: keepalives to find a dead peer on an idle link, `tcp_user_timeout` to
    /// drop one that stops acking what we sent. Both catch a vanished host or a cut cable; only
    /// the client-side deadline catches a proxy that acks but never forwards.
    static func tcpParameters(timeout: Double) -> [(String, String)] {
        let idle = max(1, Int(timeout / 3))
        let interval = max(1, Int(timeout / 6))
        return [("keepalives", "1"), ("keepalives_idle", String(idle)),
                ("keepalives_interval", String(interval)), ("keepalives_count", "3"),
                ("tcp_user_timeout", String(Int(timeout * 1000)))]
    }
}

/// How long one wait for the server's answer may stay silent before the link is declared lost.
/// One bound for everything would either cut legitimately long statements short or leave a
/// frozen link unnoticed for minutes, so the caller that knows a statement may run long says so:
///
/// - `liveness`: the default for every statement: `Liveness.timeout` (15 s).
/// - `upTo(seconds)`: a statement may legitimately run that long: the client waits that long
///   plus one liveness bound for its answer. The sql handler's `SET LOCAL statement_timeout`
///   sets it for the rest of its transaction (`Connection.setLocalStatementTimeout`): the
///   server ends the statement by then, so only a dead link outlasts the wait.
/// - `batch`: one batch of bulk work that has no statement timeout of its own (DLQ requeue and
///   delete, retention, a lead migration run from the CLI): `upTo(300)`. Batches are sized to
///   take well under a second; 5 minutes is for a big batch stuck behind a lock.
/// - `unbounded`: statements with no timeout that may legitimately run for minutes or hours
///   (`migrate`, VACUUM). Only TCP keepalives and `tcp_user_timeout` end these waits.
public enum Patience: Sendable, Equatable {
    case liveness
    case upTo(seconds: Double)
    case unbounded

    public static let batch = Patience.upTo(seconds: 300)

    /// The silent-link bound in seconds for a connection whose liveness bound is `liveness`;
    /// nil for unbounded.
    func limit(liveness: Double) -> Double? {
        switch self {
        case .liveness: return liveness
        case .upTo(let seconds): return seconds + liveness
        case .unbounded: return nil
        }
    }
}
