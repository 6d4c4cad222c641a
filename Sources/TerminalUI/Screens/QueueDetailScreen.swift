import Foundation
import QueueStore

/// One queue: the overview's figures in full, its settings, its alerts, its top tenants by
/// backlog, its charts and errors.
enum QueueDetailScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard let snapshot = context.snapshot(orExplainIn: rect, into: &buffer) else { return }
        guard let queue = state.focusedQueue else {
            let name = state.selectedQueue.map { "Queue '\($0)' is not in the latest snapshot." } ?? "No queue selected."
            context.message(name + " Esc goes back to the overview.", in: rect, into: &buffer)
            return
        }
        let tenants = state.focusedQueueTenants
        let figures = figurePairs(queue, tenants: tenants, context: context)
        let settings = settingPairs(queue.settings, tenants: tenants, context: context)
        let alerts = queue.alerts
        if context.compact {
            // One column, no frames: the worst alert, figures, top tenants (what this screen is
            // opened for when one tenant floods), then settings.
            let pause = PauseText.line(queue, now: context.now)
            let parts = Layout.vertical(rect, [.fixed(1), .fixed((pause == nil ? 0 : 1) + min(1, alerts.count)), .fixed(figures.items.count),
                                               .fixed(QueueTenantsPane.compactRows(tenants)), .flexible])
            buffer.write(" " + title(queue, context: context), in: parts[0], style: .title)
            drawStatusLines(pause, alerts: alerts, context: context, into: &buffer, in: parts[1])
            func indented(_ r: Rect) -> Rect { Rect(x: r.x + 1, y: r.y, width: max(0, r.width - 1), height: r.height) }
            figures.draw(into: &buffer, in: indented(parts[2]))
            // The table's cursor gutter is its indent.
            QueueTenantsPane.drawCompact(tenants, queue: queue, context: context, into: &buffer, in: parts[3])
            settings.draw(into: &buffer, in: indented(parts[4]))
            return
        }
        let boxRows = max(figures.items.count, settings.items.count) + 2
        // Under the boxes: who paused the queue (when it is paused), then its alerts; one row
        // of alerts below 36 rows, where the panes need the rest.
        let pause = PauseText.line(queue, now: context.now)
        let alertRows = pause != nil && alerts.isEmpty ? 0 : rect.height >= 36 ? min(4, max(1, alerts.count)) : 1
        let parts = Layout.vertical(rect, [.fixed(boxRows), .fixed((pause == nil ? 0 : 1) + alertRows), .flexible])
        let top = Layout.horizontal(parts[0], [.flexible(weight: 1), .flexible(weight: 1)])
        figures.draw(into: &buffer, in: context.section(title(queue, context: context), in: top[0], into: &buffer).inset(dx: 1, dy: 0))
        settings.draw(into: &buffer, in: context.section("Settings", in: top[1], into: &buffer).inset(dx: 1, dy: 0))
        drawStatusLines(pause, alerts: alerts, context: context, into: &buffer, in: parts[1])
        guard parts[2].height >= 4 else { return }
        let halves = Layout.horizontal(parts[2], [.flexible(weight: 3), .flexible(weight: 2)])
        guard parts[2].height >= 20 else {
            // Room for one row of panes: the tenants and the job types, the two ways this screen
            // splits the queue. The overview shows the hourly chart and the errors of this queue.
            QueueTenantsPane.draw(tenants, queue: queue, context: context, into: &buffer, in: halves[0])
            QueueTypesPane.draw(queue, context: context, into: &buffer, in: halves[1])
            return
        }
        // A tall screen gets the job types above the last hour minute by minute (what changed
        // just now) and, beside them, the tenants above the errors. The overview has the 24 h chart.
        let left = Layout.vertical(halves[0], [.flexible, .flexible])
        QueueTypesPane.draw(queue, context: context, into: &buffer, in: left[0])
        QueueCharts.drawMinutes(queue, context: context, into: &buffer, in: left[1])
        let side = Layout.vertical(halves[1], [.flexible, .flexible])
        QueueTenantsPane.draw(tenants, queue: queue, context: context, into: &buffer, in: side[0])
        QueueCharts.drawErrors(queue.name, snapshot: snapshot, context: context, into: &buffer, in: side[1])
    }

    /// "paused by ana 12m ago" (PauseText), dim like the paused row on the overview: a decision,
    /// not an alarm. Then the alerts, or "no alerts" when the queue is neither paused nor alarming.
    static func drawStatusLines(_ pause: String?, alerts: [Alert], context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        guard let pause else { return AlertLines.draw(alerts, context: context, into: &buffer, in: rect) }
        guard !rect.isEmpty else { return }
        buffer.write(" " + pause, in: rect.row(0), style: .muted)
        if !alerts.isEmpty {
            AlertLines.draw(alerts, context: context, into: &buffer, in: Rect(x: rect.x, y: rect.y + 1, width: rect.width, height: rect.height - 1))
        }
    }

    static func title(_ queue: QueueHealth, context: ScreenContext) -> String {
        let state = QueueText.state(queue)
        return "Queue \(queue.name)" + (state.isEmpty ? "" : context.dot + state)
    }

    /// `tenants` is this queue's report (nil while it loads): its expired counts.
    static func figurePairs(_ q: QueueHealth, tenants: QueueTenantReport?, context: ScreenContext) -> Pairs {
        var p = Pairs()
        let dot = context.dot
        p.add("pending", ViewText.count(q.counts.pending) + dot + "oldest " + QueueText.oldest(q),
              QueueText.oldestAlarming(q) ? .warn : .normal)
        p.add("processing", ViewText.count(q.counts.processing))
        // The drain forecast rides on the throughput line, so the box keeps its height and the
        // panes below keep their rows at 80x24.
        // A paused queue does not drain by design: say so, not "backlog growing" in alarm colours.
        // (The title and the line under the box say who paused it.)
        let drain = q.paused ? dot + "not draining"
            : q.forecast.flatMap { $0.state == "no_backlog" ? nil : dot + QueueText.drain($0) } ?? ""
        p.add("done 1h", ViewText.count(q.lastHour.completed) + drain, QueueText.growingAlarm(q) ? .warn : .normal)
        // At 80 columns a value has 24 cells: "1.2k attempts · 130 to DLQ" on one line was cut
        // to "1.2k attempts · 130 to D…". The hour's dead-letterings sit with the DLQ instead.
        p.add("failed 1h", "\(ViewText.count(q.lastHour.failed)) attempts")
        p.add("dead_letter", ViewText.count(q.counts.deadLetter) + (q.lastHour.deadLettered == 0 ? "" : "\(dot)+\(ViewText.count(q.lastHour.deadLettered)) in 1h"),
              QueueText.dlqAlarming(q) ? .error : .normal)
        p.add("expired", QueueTenantsPane.expiredText(tenants, context: context))
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

    /// `tenants` is this queue's report (nil while it loads): its caps per tenant.
    static func settingPairs(_ s: QueueSettings, tenants: QueueTenantReport?, context: ScreenContext) -> Pairs {
        var p = Pairs()
        p.add("concurrency", s.concurrencyLimit.map { "\($0) at a time" } ?? "unlimited")
        p.add("rate limit", s.rateLimitPerS.map { Format.rate(perSecond: $0) } ?? "none")
        p.add("tenant cap", QueueTenantsPane.capsText(tenants, context: context))
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
