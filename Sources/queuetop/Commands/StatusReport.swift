import Foundation
import Postgres
import QueueStore
import TerminalUI

/// The readable form of a health snapshot: plain text, fixed columns, ASCII only, so it reads
/// the same in a pipe, in `watch`, over SSH and with LANG=C.
enum StatusReport {
    static func text(_ s: HealthSnapshot, standby: StandbyStatus? = nil, topErrors: Int = 10) -> String {
        var out: [String] = []
        // Live workers only (the count the dashboard footer shows); lost ones are named apart.
        let live = s.workerCounts.live, lost = s.workerCounts.lost
        // The dashboard footer's figure: the queues' processing counters, not the sum of the
        // workers' heartbeats (which leave out a lost worker's jobs until they are handed back).
        let inFlight = s.jobsInFlight
        // On a standby the data is as of the last replayed transaction, not of this read: a
        // paused replay must not show old figures under the current time.
        let asOf = standby == nil ? timestamp(s.generatedAt) : standby?.lastReplayedAt.map(timestamp) ?? "-"
        out.append("queuetop status  \(asOf)  \(s.queues.count) queue\(s.queues.count == 1 ? "" : "s")  "
                   + "\(live) worker\(live == 1 ? "" : "s")\(lost > 0 ? " (\(lost) lost)" : "")  \(inFlight) in flight")
        if let standby {
            out.append("\(StandbyText.line(standby))  (the time above is the last replayed transaction's; "
                       + "\(SafeText.oneLine(standby.refusal)) to act)")
        }
        out.append("")

        let header = ["QUEUE", "STATE", "PENDING", "RUNNING", "DONE/1h", "FAIL/1h", "DLQ", "OLDEST", "p50", "p95", "p99", "DRAIN"]
        var rows = [header]
        for q in s.queues {
            let state = q.paused ? "paused" : (q.circuit == "closed" ? "active" : "circuit \(q.circuit)")
            rows.append([
                SafeText.oneLine(q.name), SafeText.oneLine(state), count(q.counts.pending), count(q.counts.processing), count(q.lastHour.completed),
                count(q.lastHour.failed), count(q.counts.deadLetter), oldest(q.oldestPendingSeconds, pending: q.counts.pending),
                // A paused queue does not drain by design: "-", as on the dashboard, not "growing".
                millis(q.latencyMs.p50), millis(q.latencyMs.p95), millis(q.latencyMs.p99), q.paused ? "-" : q.forecast?.short ?? "-",
            ])
        }
        if s.queues.isEmpty { out.append("no queues yet (a queue is created by enqueueing into it)") } else { out += table(rows) }
        // Who paused what, and when (the STATE column only says "paused"): the same words as
        // the dashboard's queue screen (PauseText).
        let paused = s.queues.compactMap { q in
            PauseText.line(q, now: s.generatedAt).map { "  \(SafeText.oneLine(q.name)): \($0)" + (q.pausedAt.map { " (\(timestamp($0)))" } ?? "") }
        }
        if !paused.isEmpty {
            out.append("")
            out.append("PAUSED")
            out += paused
        }
        out.append("")

        // One line per error group (queue, type and fingerprint): the pattern names the group,
        // the sample is its newest message.
        out.append("TOP ERRORS (24 h, by pattern)")
        if s.errorTypes.isEmpty {
            out.append("  none")
        } else {
            var errs = [["QUEUE", "ERROR TYPE", "PATTERN", "COUNT", "LAST SEEN", "SAMPLE"]]
            for e in s.errorTypes.prefix(topErrors) {
                errs.append([SafeText.oneLine(e.queue), SafeText.oneLine(e.errorType), oneLine(e.pattern ?? "-", max: 50),
                             count(e.count), timestamp(e.lastSeen), oneLine(e.sampleMessage ?? "", max: 60)])
            }
            out += table(errs).map { "  " + $0 }
        }
        out.append("")

        out.append("ALERTS")
        if s.alerts.isEmpty { out.append("  none") }
        for a in s.alerts { out.append("  ! [\(a.kind)] \(safe: a.message)") }
        if s.queues.contains(where: { $0.forecast != nil }) {
            out.append("")
            out.append("DRAIN: when pending + running clears at the net rate of the last 10 min (done and dead-lettered"
                       + " minus arrived); growing, steady, idle (nothing moved), or - (no backlog)")
        }
        if s.queues.contains(where: { $0.latencyMs.samples > 0 }) {
            out.append("")
            out.append("p50/p95/p99: processing time of jobs completed in the last hour, histogram estimates within "
                       + String(format: "%.1f", (s.queues.first?.latencyMs.relativeError ?? 0.0488) * 100) + " %")
        }
        return out.joined(separator: "\n")
    }

    /// `--json`: the snapshot exactly as the database rendered it, plus `"standby"` (true on a
    /// hot standby) and `"replay"` (null on a primary): appended as the last keys, so the
    /// snapshot's own text is untouched.
    static func json(_ snapshot: String, standby: StandbyStatus?, notificationsDelivered: Bool? = nil) -> String {
        guard snapshot.hasSuffix("}") else { return snapshot }
        let body = snapshot.dropLast()
        return body + (body.hasSuffix("{") ? "" : ", ") + "\"standby\": \(standby != nil), \"replay\": "
            + JSONOutput.render(standby.map(ReplayJSON.init))
            + ", \"notifications_delivered\": \(notificationsDelivered.map { "\($0)" } ?? "null")}"
    }

    /// `status --json`'s `replay` object on a hot standby (null on a primary); the property
    /// names are the JSON keys (JSONOutput.swift). Seconds are rounded to the millisecond.
    struct ReplayJSON: Encodable {
        let state: String
        @OrNull var lag_seconds: Double?
        @OrNull var last_replayed_at: String?
        @OrNull var data_age_seconds: Double?
        @OrNull var waiting_bytes: Int64?
        @OrNull var primary: String?

        init(_ standby: StandbyStatus) {
            func seconds(_ value: Double?) -> Double? { value.map { ($0 * 1000).rounded() / 1000 } }
            state = standby.replayState; lag_seconds = seconds(standby.lagSeconds)
            last_replayed_at = standby.lastReplayedAt.map(timestamp); data_age_seconds = seconds(standby.dataAgeSeconds)
            waiting_bytes = standby.waitingBytes; primary = standby.primary
        }
    }

    /// Left-aligned text columns, right-aligned figures, two spaces apart. Widths are terminal
    /// columns, not characters: a name in CJK (a queue, a tenant) takes two per character.
    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = first.indices.map { i in rows.map { DisplayWidth.of($0[i]) }.max() ?? 0 }
        let numeric = first.indices.map { i in rows.dropFirst().allSatisfy { $0[i].first.map { $0.isNumber || $0 == "-" } ?? true } }
        return rows.map { row in
            row.indices.map { i in
                let pad = String(repeating: " ", count: widths[i] - DisplayWidth.of(row[i]))
                return numeric[i] && i > 0 ? pad + row[i] : row[i] + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    static func count(_ n: Int64) -> String {
        switch n {
        case ..<10_000: return "\(n)"
        case ..<1_000_000: return String(format: "%.1fk", Double(n) / 1_000)
        default: return String(format: "%.2fM", Double(n) / 1_000_000)
        }
    }

    static func millis(_ ms: Double?) -> String {
        guard let ms else { return "-" }
        if ms < 1_000 { return String(format: "%.0fms", ms) }
        if ms < 60_000 { return String(format: "%.2fs", ms / 1_000) }
        return String(format: "%.1fm", ms / 60_000)
    }

    /// OLDEST: "-" for a queue with nothing pending, as on the dashboard (Format.oldestPending).
    static func oldest(_ seconds: Int64, pending: Int64) -> String {
        Format.oldestPending(seconds: seconds, pending: pending) { duration(Double($0)) }
    }

    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: return "\(Int(seconds))s"
        case ..<3600: return "\(Int(seconds / 60))m\(Int(seconds) % 60)s"
        case ..<86400: return "\(Int(seconds / 3600))h\(Int(seconds / 60) % 60)m"
        default: return "\(Int(seconds / 86400))d\(Int(seconds / 3600) % 24)h"
        }
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// Messages can hold newlines and control characters; the report is one line per item.
    /// Cut to `max` characters first, then made safe, so an escape is never cut in half.
    static func oneLine(_ text: String, max: Int) -> String {
        SafeText.oneLine(text.count <= max ? text : String(text.prefix(max - 3)) + "...")
    }
}
