import Foundation
import QueueStore

/// `queuetop queue show NAME`: the queue's settings line (as `queue list` prints it), its caps
/// per tenant, its expired jobs, its drain forecast, its job types over the last hour and its top
/// tenants by backlog. Plain ASCII columns like `queuetop status`, so it reads the same in a pipe
/// and over SSH; counts are exact.
enum QueueShowReport {
    /// `health` is the queue's entry in the health snapshot (nil if the snapshot lacks it).
    static func text(_ queue: QueueConfig, _ report: QueueTenantReport, health: QueueHealth? = nil) -> String {
        var out = [queueLine(queue)]
        out.append("tenant caps: " + caps(report.caps))
        out.append("expired: \(report.expired.lastHour) in the last hour, \(report.expired.last24h) in the last 24 h"
                   + " (pending past their expires_at, cancelled unprocessed)")
        if let f = health?.forecast { out.append("drain: " + forecastLine(f)) }
        out.append("")
        if let types = health?.types {
            out += typeLines(types)
            out.append("")
        }
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

    /// "clears in ~12 min (backlog 600; last 10 min: 100 left, 0 arrived)".
    static func forecastLine(_ f: DrainForecast) -> String {
        f.summary + " (backlog \(f.backlog); last \(f.windowS / 60) min: \(f.departed) done or dead-lettered, \(f.arrived) arrived)"
    }

    /// The per-type table: type names are producers' free text, so each goes through SafeText.
    static func typeLines(_ types: [TypeHealth]) -> [String] {
        guard !types.isEmpty else { return ["JOB TYPES (last hour): none finished"] }
        var rows = [["TYPE", "DONE/1h", "FAIL/1h", "FAIL%", "p50", "p95", "p99"]]
        for t in types {
            rows.append([t.type.map { StatusReport.oneLine($0, max: 40) } ?? "(other)", StatusReport.count(t.completed),
                         StatusReport.count(t.failed), t.failRate.map { String(format: "%.1f", $0 * 100) } ?? "-",
                         StatusReport.millis(t.p50), StatusReport.millis(t.p95), StatusReport.millis(t.p99)])
        }
        return ["JOB TYPES (last hour, busiest first; p50/p95/p99 are histogram estimates)"]
            + StatusReport.table(rows).map { "  " + $0 }
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
    static func json(_ queue: QueueConfig, _ report: QueueTenantReport, health: QueueHealth? = nil) -> [String: Any] {
        var object = queueJSON(queue)
        if let types = health?.types {
            object["types"] = types.map {
                ["type": $0.type ?? NSNull(), "other": $0.other, "completed": $0.completed, "failed": $0.failed,
                 "dead_lettered": $0.deadLettered, "fail_rate": $0.failRate ?? NSNull(), "p50": $0.p50 ?? NSNull(),
                 "p95": $0.p95 ?? NSNull(), "p99": $0.p99 ?? NSNull(), "samples": $0.samples] as [String: Any]
            }
        }
        if let f = health?.forecast {
            object["forecast"] = ["state": f.state, "backlog": f.backlog, "arrived": f.arrived, "departed": f.departed,
                                  "window_s": f.windowS, "net_per_min": f.netPerMin,
                                  "clears_in_minutes": f.clearsInMinutes ?? NSNull()] as [String: Any]
        }
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
