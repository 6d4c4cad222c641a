import Foundation
import QueueStore

/// How the audit screen words a row's filter. Operator actions read well as their JSON filter;
/// the expirer's `job.expire` rows carry up to 20 full job ids, which as JSON fill the column with
/// quotes and hex before saying anything, so they are worded instead: the queue, then short ids.
enum AuditFilterText {
    /// Who acted: the database role, with what the client claimed to be beside it. The expirer
    /// runs inside workers, which name no OS user: say what it was rather than "(unknown)", which
    /// would read as a gap in the audit trail.
    static func actor(_ entry: AuditEntry, unknown: String) -> String {
        entry.actorDescription ?? (entry.action == "job.expire" ? "(expirer)" : unknown)
    }

    /// The FILTER cell: "campaign-messages · ids 9bc7bfa9 3e1f08c2 … +37 more" (ShortJobID) for an expiry.
    static func summary(_ entry: AuditEntry, context: ScreenContext) -> String {
        guard let expiry = Expiry(entry) else { return ViewText.oneLine(entry.filter.raw) }
        guard !expiry.ids.isEmpty else { return expiry.queue }
        return "\(expiry.queue)\(context.dot)ids \(expiry.ids.map(ShortJobID.of).joined(separator: " "))"
            + expiry.more(than: entry.affected)
    }

    /// The lines under "who" and "what" in the detail pane: the filter wrapped, or for an
    /// expiry the queue, why, and the full ids (to look the jobs up).
    static func detail(_ entry: AuditEntry, width: Int) -> Pairs {
        var p = Pairs()
        func wrapped(_ label: String, _ text: String) {
            for (i, line) in TextWrap.wrap(text, width: max(1, width - labelWidth - 1)).enumerated() {
                p.add(i == 0 ? label : "", line)
            }
        }
        guard let expiry = Expiry(entry) else {
            wrapped("filter", ViewText.oneLine(entry.filter.raw))
            return p
        }
        p.add("queue", "\(expiry.queue): cancelled, still pending at expires_at")
        if !expiry.ids.isEmpty { wrapped("ids", expiry.ids.joined(separator: " ") + expiry.more(than: entry.affected)) }
        return p
    }

    /// Labels of the detail pane line up with "filter", its longest.
    static let labelWidth = 6

    /// The filter of a `job.expire` row: {"queue": q, "ids": [first ≤ 20 ids]}.
    struct Expiry {
        var queue: String
        var ids: [String]

        init?(_ entry: AuditEntry) {
            guard entry.action == "job.expire",
                  let object = try? JSONSerialization.jsonObject(with: Data(entry.filter.raw.utf8)) as? [String: Any],
                  let queue = object["queue"] as? String else { return nil }
            self.queue = queue
            self.ids = object["ids"] as? [String] ?? []
        }

        /// " +37 more" when the row counted more jobs than it lists.
        func more(than affected: Int64) -> String {
            affected > Int64(ids.count) ? " +\(ViewText.grouped(affected - Int64(ids.count))) more" : ""
        }
    }
}
