import Foundation
import QueueStore

/// `queuetop queue show NAME`: the queue's settings line (as `queue list` prints it), its caps
/// per tenant, its expired jobs and its top tenants by backlog. Plain ASCII columns like
/// `queuetop status`, so it reads the same in a pipe and over SSH; counts are exact.
enum QueueShowReport {
    static func text(_ queue: QueueConfig, _ report: QueueTenantReport) -> String {
        var out = [queueLine(queue)]
        out.append("tenant caps: " + caps(report.caps))
        out.append("expired: \(report.expired.lastHour) in the last hour, \(report.expired.last24h) in the last 24 h"
                   + " (pending past their expires_at, cancelled unprocessed)")
        out.append("")
        guard !report.tenants.isEmpty else {
            out.append("no tenant keys in this queue (jobs enqueued with a \"tenant\" are counted per tenant)")
            return out.joined(separator: "\n")
        }
        out.append("TOP TENANTS BY BACKLOG (most pending first)")
        var rows = [["TENANT", "PENDING", "PROCESSING", "OLDEST PENDING"]]
        for t in report.tenants {
            rows.append([StatusReport.oneLine(t.tenant, max: 60), "\(t.pending)", "\(t.processing)",
                         t.oldestPendingSeconds.map(StatusReport.duration) ?? "-"])
        }
        out += StatusReport.table(rows).map { "  " + $0 }
        return out.joined(separator: "\n")
    }

    /// "4 in flight, 5/s per tenant", or "none".
    static func caps(_ caps: TenantCaps) -> String {
        caps.isEmpty ? "none" : capsWithoutUnit(caps) + " per tenant"
    }

    /// "4 in flight, 5/s" (what `queue list` appends after "tenant cap").
    static func capsWithoutUnit(_ caps: TenantCaps) -> String {
        [caps.concurrencyLimit.map { "\($0) in flight" }, caps.ratePerSecond.map { "\(number($0))/s" }]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// `queue show --json`: the queue's settings object (caps included) plus `tenants` and `expired`.
    static func json(_ queue: QueueConfig, _ report: QueueTenantReport) -> [String: Any] {
        var object = queueJSON(queue)
        object["expired"] = ["last_hour": report.expired.lastHour, "last_24h": report.expired.last24h]
        object["tenants"] = report.tenants.map {
            ["tenant": $0.tenant, "pending": $0.pending, "processing": $0.processing,
             "oldest_pending_s": $0.oldestPendingSeconds ?? NSNull()] as [String: Any]
        }
        return object
    }

    /// 5 as "5", 2.5 as "2.5": a rate as the operator typed it.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
    }
}
