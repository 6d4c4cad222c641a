import Foundation
import QueueStore

/// How the timeline words a cancel. Its audit rows carry a filter written for machines:
/// `job.cancel` {"ids": [one full id], "running": true, "worker_id": …} and the bulk
/// `jobs.cancel` {"where": filter text, "previewed", "marked", "as_of", then "outcome",
/// "reason", "done" when it stopped early}. As JSON they read as quotes and hex; worded, the
/// line says what was cancelled, by whom and why: "cancelled job 00000007 (pending) · by bruno ·
/// reason: operator cancel" — what first, since at 80 columns the row is cut and has no WHO
/// column. A row not of that shape (an operator's raw record_audit call) keeps its JSON.
/// Every value here came from the database: the caller puts the line through `ViewText.oneLine`
/// and the table's sanitising write, like any other cell; `queuetop timeline` (the one other
/// caller, so the CLI and the dashboard word a cancel alike) through `SafeText.oneLine`.
public enum CancelAuditText {
    /// The worded line, or nil when the entry is not a cancel this knows how to read.
    public static func summary(_ e: TimelineEntry, dot: String) -> String? {
        guard e.source == .audit,
              let filter = try? JSONSerialization.jsonObject(with: Data(e.detail.raw.utf8)) as? [String: Any] else { return nil }
        let who = e.actor.map { ViewText.oneLine($0) } ?? "someone"
        switch e.event {
        case "job.cancel": return single(filter, who: who, dot: dot)
        case "jobs.cancel": return bulk(filter, affected: e.affected, who: who, dot: dot)
        default: return nil
        }
    }

    /// One job, cancel_job(): pending jobs end at once; a running one is stopped by its worker.
    static func single(_ filter: [String: Any], who: String, dot: String) -> String? {
        guard let ids = filter["ids"] as? [String], let id = ids.first, ids.count == 1 else { return nil }
        let job = ShortJobID.of(ViewText.oneLine(id))
        guard filter["running"] as? Bool == true else {
            return "cancelled job \(job) (pending)\(dot)by \(who)\(dot)reason: operator cancel"
        }
        let worker = (filter["worker_id"] as? String).map { "worker \(ViewText.oneLine($0)) stops it" } ?? "its worker stops it"
        return "cancelled running job \(job)\(dot)by \(who)\(dot)\(worker)\(dot)reason: operator cancel"
    }

    /// A bulk cancel by filter (`queuetop jobs cancel`, the Jobs screen's `c`): how many, which
    /// jobs (the filter, or the marked rows), and how it ended when it did not finish.
    static func bulk(_ filter: [String: Any], affected: Int64, who: String, dot: String) -> String? {
        guard let where_ = filter["where"] as? String else { return nil }
        let count = affected == 1 ? "1 job" : "\(ViewText.grouped(affected)) jobs"
        let which: String
        if let marked = filter["marked"] as? Int {
            which = "of \(ViewText.grouped(Int64(marked))) marked" + (where_.isEmpty ? "" : " (found by \(ViewText.oneLine(where_)))")
        } else {
            which = where_.isEmpty ? "matching every job" : "matching \(ViewText.oneLine(where_))"
        }
        var line = "cancelled \(count)\(dot)by \(who)\(dot)\(which)"
        switch filter["outcome"] as? String {
        case "stopped": line += "\(dot)stopped early"
        case "failed": line += "\(dot)failed: " + ViewText.oneLine(filter["reason"] as? String ?? "no reason given")
        case nil: break
        case let other?: line += "\(dot)" + ViewText.oneLine(other)
        }
        return line + "\(dot)reason: operator cancel"
    }
}
