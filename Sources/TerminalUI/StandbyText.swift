import Foundation
import QueueStore

/// How a hot standby's replay reads, in the dashboard's footer and in `queuetop status`: one
/// phrase, so both say the same thing ("standby: caught up").
public enum StandbyText {
    /// "caught up", "replay 12s behind", "replay paused, data from 5m ago", "not streaming
    /// from the primary, data from 40s ago". Ages are the server's (`dataAgeSeconds`), so a
    /// client with a wrong clock still reads the truth.
    public static func replay(_ standby: StandbyStatus) -> String {
        let age = standby.dataAgeSeconds.map { Format.age(seconds: Format.clampedInt($0.rounded(.down))) }
        switch standby.replay {
        case .caughtUp:
            return "caught up"
        case .behind:
            return age.map { "replay \($0) behind" } ?? "replay behind"
        case .paused:
            return "replay paused" + (age.map { ", data from \($0) ago" } ?? "")
        case .notStreaming:
            return "not streaming from the primary" + (age.map { ", data from \($0) ago" } ?? "")
        }
    }

    /// "standby: caught up": the marker the dashboard and `status` show on a standby.
    public static func line(_ standby: StandbyStatus) -> String {
        "standby: " + replay(standby)
    }
}
