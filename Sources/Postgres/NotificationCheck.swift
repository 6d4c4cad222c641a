import Foundation

/// Whether LISTEN works on a connection. Behind a transaction pooler (PgBouncer or Supavisor in
/// transaction mode) LISTEN is accepted but nothing is ever delivered: the LISTEN stays on
/// whichever server connection ran it, and a notification for it reaches whatever client holds
/// that server connection then, or nobody. Nothing on the wire says so (`SHOW pool_mode` is a
/// PgBouncer admin-console command, and a pooler passes `pg_backend_pid()` of whatever server it
/// lends), so the one robust test is the real thing: NOTIFY a private channel with a unique
/// payload from a second connection and see whether it arrives here within `timeout`.
///
/// Both listeners (the dashboard's `ChangeListener` and the worker pool's listener) call this
/// on every new link and fall back to polling when it answers false.
///
/// A hot standby is the other server where LISTEN is off: it refuses LISTEN and NOTIFY
/// ("cannot execute LISTEN during recovery") and writes that error to its log on every try, so
/// the check asks `pg_is_in_recovery()` first and sends neither there.
extension Connection {
    /// The one line queuetop logs (and `status` prints) when LISTEN does not work.
    public static let notificationsLostMessage =
        "notifications are not delivered on this connection (a transaction pooler?); falling back to polling every 1 s; use a session pooler or a direct connection for instant pickup"

    /// LISTENs on `channels` and says whether a notification sent from another connection
    /// reaches this one within `timeout` seconds. When it does not, the LISTENs are taken back
    /// (`UNLISTEN *`, best effort): they would only sit on some pooled server connection.
    /// Notifications for `channels` that arrive during the check are not returned: callers
    /// look for work after connecting anyway.
    public func listenChecked(_ channels: [String], timeout: Double = 2) throws -> Bool {
        if try isInRecovery() { return false }
        for channel in channels { try listen(channel) }
        let delivered = try notificationsDelivered(timeout: timeout)
        if !delivered { _ = try? executeScript("UNLISTEN *") }
        return delivered
    }

    /// The check alone: LISTEN on a private channel, NOTIFY it from a fresh connection (a
    /// NOTIFY from this same client could run on the very server connection that listens and
    /// come back with its own reply, which proves nothing), wait, UNLISTEN.
    public func notificationsDelivered(timeout: Double = 2) throws -> Bool {
        if try isInRecovery() { return false }
        let token = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let channel = "queuetop_probe_" + token.prefix(16)
        try listen(channel)
        do {
            let other = try Connection.connect(config)
            defer { other.close() }
            try other.notify(channel, payload: token)
        }
        let deadline = Date().addingTimeInterval(timeout)
        var delivered = false
        while !delivered {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            delivered = try waitForNotifications(timeout: left).contains { $0.channel == channel && $0.payload == token }
        }
        try unlisten(channel)
        return delivered
    }

    /// A hot standby (recovery): no LISTEN, no NOTIFY, no writes.
    public func isInRecovery() throws -> Bool {
        try query("SELECT pg_is_in_recovery()").scalar(Bool.self)
    }
}
