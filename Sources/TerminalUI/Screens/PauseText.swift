import Foundation
import Postgres
import QueueStore

/// Who paused a queue and when, in the words both the queue screen and `queuetop status` print:
/// "paused by ana 12m ago". A paused queue is an operator's decision; at 3 a.m. the next
/// question is whose, and whether it is still meant. The name came from the database (a login
/// role may hold any character): it goes through SafeText here, so no caller can forget.
public enum PauseText {
    /// nil for a queue that runs; "paused" alone when the database does not say who (a queue
    /// paused before 0032 whose audit row was gone).
    public static func line(_ q: QueueHealth, now: Date) -> String? {
        guard q.paused else { return nil }
        var text = "paused"
        if let who = q.pausedBy { text += " by " + SafeText.oneLine(who) }
        if let at = q.pausedAt { text += " " + Format.age(seconds: Format.clampedInt(now.timeIntervalSince(at).rounded(.down))) + " ago" }
        return text
    }
}
