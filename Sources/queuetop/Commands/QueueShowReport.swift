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

    /// `queue show --json`: the queue's settings object (caps included, the keys of `QueueJSON`)
    /// plus `tenants` and `expired`, and `types` and `forecast` when the health snapshot has them
    /// (left out, not null, on a database migrated before 0017).
    struct JSON: Encodable {
        let settings: QueueJSON
        let types: [TypeJSON]?
        let forecast: ForecastJSON?
        let expired: ExpiredJSON
        let tenants: [TenantJSON]

        init(_ queue: QueueConfig, _ report: QueueTenantReport, health: QueueHealth? = nil) {
            settings = QueueJSON(queue)
            types = health?.types.map { $0.map(TypeJSON.init) }
            forecast = health?.forecast.map(ForecastJSON.init)
            expired = ExpiredJSON(last_hour: report.expired.lastHour, last_24h: report.expired.last24h)
            tenants = report.tenants.map(TenantJSON.init)
        }

        private enum CodingKeys: String, CodingKey { case types, forecast, expired, tenants }

        /// The settings' keys at the top level, beside the report's own.
        func encode(to encoder: any Encoder) throws {
            try settings.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(types, forKey: .types)
            try container.encodeIfPresent(forecast, forKey: .forecast)
            try container.encode(expired, forKey: .expired)
            try container.encode(tenants, forKey: .tenants)
        }
    }

    /// One job type of the last hour; `type` is null for the "other" row.
    struct TypeJSON: Encodable {
        @OrNull var type: String?
        let other: Bool
        let completed: Int64
        let failed: Int64
        let dead_lettered: Int64
        @OrNull var fail_rate: Double?
        @OrNull var p50: Double?
        @OrNull var p95: Double?
        @OrNull var p99: Double?
        let samples: Int64

        init(_ t: TypeHealth) {
            type = t.type; other = t.other; completed = t.completed; failed = t.failed; dead_lettered = t.deadLettered
            fail_rate = t.failRate; p50 = t.p50; p95 = t.p95; p99 = t.p99; samples = t.samples
        }
    }

    struct ForecastJSON: Encodable {
        let state: String
        let backlog: Int64
        let arrived: Int64
        let departed: Int64
        let window_s: Int64
        let net_per_min: Double
        @OrNull var clears_in_minutes: Int64?

        init(_ f: DrainForecast) {
            state = f.state; backlog = f.backlog; arrived = f.arrived; departed = f.departed; window_s = f.windowS
            net_per_min = f.netPerMin; clears_in_minutes = f.clearsInMinutes
        }
    }

    struct ExpiredJSON: Encodable {
        let last_hour: Int64
        let last_24h: Int64
    }

    struct TenantJSON: Encodable {
        let tenant: String
        let pending: Int64
        let processing: Int64
        @OrNull var oldest_pending_s: Double?

        init(_ t: TenantBacklog) {
            tenant = t.tenant; pending = t.pending; processing = t.processing; oldest_pending_s = t.oldestPendingSeconds
        }
    }

    /// 5 as "5", 2.5 as "2.5": a rate as the operator typed it.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
    }
}
