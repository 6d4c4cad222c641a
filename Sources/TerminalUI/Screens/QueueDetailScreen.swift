import Foundation
import QueueStore

/// One queue: the overview's figures in full, its settings, its alerts, its chart and errors.
enum QueueDetailScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard let snapshot = context.snapshot(orExplainIn: rect, into: &buffer) else { return }
        guard let queue = state.focusedQueue else {
            let name = state.selectedQueue.map { "Queue '\($0)' is not in the latest snapshot." } ?? "No queue selected."
            context.message(name + " Esc goes back to the overview.", in: rect, into: &buffer)
            return
        }
        let figures = figurePairs(queue, context: context)
        let settings = settingPairs(queue.settings, context: context)
        let alerts = queue.alerts
        if context.compact {
            // One column, no frames: figures, then settings, then the worst alert.
            let parts = Layout.vertical(rect, [.fixed(1), .fixed(min(1, alerts.count)), .flexible])
            buffer.write(" " + title(queue, context: context), in: parts[0], style: .title)
            AlertLines.draw(alerts, context: context, into: &buffer, in: parts[1])
            var all = figures
            all.items += settings.items
            all.draw(into: &buffer, in: Rect(x: parts[2].x + 1, y: parts[2].y, width: parts[2].width - 1, height: parts[2].height))
            return
        }
        let boxRows = max(figures.items.count, settings.items.count) + 2
        let alertRows = rect.height >= 36 ? min(4, max(1, alerts.count)) : 1
        let parts = Layout.vertical(rect, [.fixed(boxRows), .fixed(alertRows), .flexible])
        let top = Layout.horizontal(parts[0], [.flexible(weight: 1), .flexible(weight: 1)])
        figures.draw(into: &buffer, in: context.section(title(queue, context: context), in: top[0], into: &buffer).inset(dx: 1, dy: 0))
        settings.draw(into: &buffer, in: context.section("Settings", in: top[1], into: &buffer).inset(dx: 1, dy: 0))
        AlertLines.draw(alerts, context: context, into: &buffer, in: parts[1])
        if parts[2].height >= 4 {
            let halves = Layout.horizontal(parts[2], [.flexible(weight: 3), .flexible(weight: 2)])
            // A tall screen also gets the last hour minute by minute: what changed just now.
            let charts = Layout.vertical(halves[0], parts[2].height >= 20 ? [.flexible, .flexible] : [.flexible, .fixed(0)])
            QueueCharts.drawHourly(queue, context: context, into: &buffer, in: charts[0])
            if !charts[1].isEmpty { QueueCharts.drawMinutes(queue, context: context, into: &buffer, in: charts[1]) }
            QueueCharts.drawErrors(queue.name, snapshot: snapshot, context: context, into: &buffer, in: halves[1])
        }
    }

    static func title(_ queue: QueueHealth, context: ScreenContext) -> String {
        let state = QueueText.state(queue)
        return "Queue \(queue.name)" + (state.isEmpty ? "" : context.dot + state)
    }

    static func figurePairs(_ q: QueueHealth, context: ScreenContext) -> Pairs {
        var p = Pairs()
        let dot = context.dot
        p.add("pending", ViewText.count(q.counts.pending) + dot + "oldest " + QueueText.oldest(q),
              QueueText.oldestAlarming(q) ? .warn : .normal)
        p.add("processing", ViewText.count(q.counts.processing))
        p.add("done 1h", ViewText.count(q.lastHour.completed))
        p.add("failed 1h", "\(ViewText.count(q.lastHour.failed)) attempts\(dot)\(ViewText.count(q.lastHour.deadLettered)) to DLQ")
        p.add("dead_letter", ViewText.count(q.counts.deadLetter), QueueText.dlqAlarming(q) ? .error : .normal)
        let alarming = q.errorRate5m.map { $0 >= q.settings.errorRateAlert } ?? false
        p.add("errors 5m", q.errorRate5m.map(ViewText.percent) ?? "- (nothing finished)", alarming ? .warn : .normal)
        let l = q.latencyMs
        p.add("p50 p95 p99", l.samples == 0 ? "- (no job done in 1h)"
              : "\(ViewText.latency(l.p50)) \(ViewText.latency(l.p95)) \(ViewText.latency(l.p99))")
        if l.samples > 0 {
            p.add("avg, max", "\(ViewText.latency(l.avg)), \(ViewText.latency(l.max.map(Double.init)))\(dot)\(ViewText.count(l.samples)) jobs")
        }
        p.add("circuit", q.circuit.replacingOccurrences(of: "_", with: "-"), q.circuit == "open" ? .error : .normal)
        return p
    }

    static func settingPairs(_ s: QueueSettings, context: ScreenContext) -> Pairs {
        var p = Pairs()
        p.add("concurrency", s.concurrencyLimit.map { "\($0) at a time" } ?? "unlimited")
        p.add("rate limit", s.rateLimitPerS.map { Format.rate(perSecond: $0) } ?? "none")
        p.add("backoff", backoff(s))
        p.add("max attempts", "\(s.maxAttempts)")
        p.add("visibility", ViewText.span(s.visibilityTimeoutS) + " timeout")
        p.add("alert: DLQ", "at \(s.dlqAlertThreshold) jobs")
        p.add("alert: oldest", "at " + ViewText.span(s.oldestPendingAlertS))
        p.add("alert: errors", "at " + ViewText.percent(s.errorRateAlert) + " in 5m")
        return p
    }

    /// "2s doubling, cap 10m" or "schedule 10s 1m 5m 15m".
    static func backoff(_ s: QueueSettings) -> String {
        if let schedule = s.backoffScheduleS, !schedule.isEmpty {
            return "schedule " + schedule.map(ViewText.span).joined(separator: " ")
        }
        return "\(ViewText.span(s.backoffBaseS)) doubling, cap \(ViewText.span(s.backoffCapS))"
    }
}
