import Foundation
import Postgres

/// What a hot standby is doing, read with every refresh of the dashboard and every print of
/// `status`: whether replay keeps up, and what the data on screen is as of.
///
/// Lag is not `now() - pg_last_xact_replay_timestamp()`: that grows while the primary is idle
/// although the standby has everything. So: replay paused (a standby an operator paused shows
/// old data forever) comes first; then everything received is replayed, and the standby is
/// streaming, means caught up (0); otherwise the age of the last replayed transaction is how far
/// behind it is.
public struct StandbyStatus: Sendable, Equatable {
    public enum Replay: Sendable, Equatable {
        /// Streaming, and everything received has been replayed.
        case caughtUp
        /// Replay runs but has received WAL left to apply.
        case behind
        /// `pg_wal_replay_pause()`: the data stays as of `lastReplayedAt` until resumed.
        case paused
        /// No WAL receiver (the primary is unreachable, or WAL comes from an archive): what
        /// was replayed may be all there is, or far from it.
        case notStreaming
    }

    public var replay: Replay
    /// When the last replayed transaction committed on the primary: the time the data is as
    /// of (nil when none has been replayed since the standby started).
    public var lastReplayedAt: Date?
    /// Seconds from `lastReplayedAt` to the read, on the server's clock (nil with it).
    public var dataAgeSeconds: Double?
    /// WAL received but not yet replayed.
    public var waitingBytes: Int64?
    /// The primary's `host:port` (pg_stat_wal_receiver), when this role may read it: a member of
    /// pg_read_all_stats or a superuser; nil for everyone else.
    public var primary: String?

    public init(replay: Replay, lastReplayedAt: Date?, dataAgeSeconds: Double?, waitingBytes: Int64?, primary: String?) {
        self.replay = replay; self.lastReplayedAt = lastReplayedAt; self.dataAgeSeconds = dataAgeSeconds
        self.waitingBytes = waitingBytes; self.primary = primary
    }

    /// Seconds behind the primary: 0 when caught up, the age of the last replayed transaction
    /// otherwise; nil while paused (it only grows) or when nothing was replayed yet.
    public var lagSeconds: Double? {
        switch replay {
        case .caughtUp: return 0
        case .behind, .notStreaming: return dataAgeSeconds
        case .paused: return nil
        }
    }

    /// The stable name of `replay` in JSON output.
    public var replayState: String {
        switch replay {
        case .caughtUp: return "caught_up"
        case .behind: return "behind"
        case .paused: return "paused"
        case .notStreaming: return "not_streaming"
        }
    }

    /// Why a write is refused here, and where to go instead.
    public var refusal: String {
        "this is a read-only standby; connect to the primary" + (primary.map { " (\($0))" } ?? "")
    }
}

/// Whether the server is a primary or a hot standby. One query, built-in functions only (no
/// queuetop object: it runs before `migrate` too), readable by any role.
public struct ServerRoleStore: Sendable {
    public let connection: Connection
    public init(connection: Connection) { self.connection = connection }

    /// nil on a primary. pg_is_wal_replay_paused() rather than PostgreSQL 14's
    /// pg_get_wal_replay_pause_state(), so 13 works too; both raise on a primary, hence CASE.
    public func standby() throws -> StandbyStatus? {
        let row = try connection.run("""
            SELECT pg_is_in_recovery() AS standby,
                   CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused,
                   pg_last_xact_replay_timestamp() AS replayed_at,
                   extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS age,
                   pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::int8 AS waiting,
                   receiver.pid IS NOT NULL AS streaming,
                   receiver.sender_host || ':' || receiver.sender_port AS primary_address
              FROM (SELECT) AS one
              LEFT JOIN pg_catalog.pg_stat_wal_receiver AS receiver ON true  -- at most one row
            """).first
        guard let row, try row.decode("standby", as: Bool.self) else { return nil }
        let age = try row.decode("age", as: Double?.self).map { max(0, $0) }
        let waiting = try row.decode("waiting", as: Int64?.self)
        let replay: StandbyStatus.Replay
        if try row.decode("paused", as: Bool?.self) == true {
            replay = .paused
        } else if let waiting, try row.decode("streaming", as: Bool.self) {
            replay = waiting <= 0 ? .caughtUp : .behind
        } else {
            replay = .notStreaming
        }
        return StandbyStatus(replay: replay, lastReplayedAt: try row.decode("replayed_at", as: Date?.self), dataAgeSeconds: age,
                             waitingBytes: waiting, primary: try row.decode("primary_address", as: String?.self))
    }

    /// Throws `.readOnlyStandby` on a standby, before a writing command sends anything that
    /// would fail with "cannot execute … in a read-only transaction".
    public func refuseWritesOnStandby() throws {
        if let standby = try standby() { throw QueueStoreError.readOnlyStandby(standby.refusal) }
    }
}
