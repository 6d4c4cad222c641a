import Foundation
import QueueStore

/// The home screen: every queue in a table; under it the alerts, and for the selected queue a
/// 24-hour chart and its top error types.
enum OverviewScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard let snapshot = context.snapshot(orExplainIn: rect, into: &buffer) else { return }
        let alerts = state.alertsBySeverity
        let rows = state.visibleQueues
        // The hook line sits under the alerts it reports on; a compact layout cannot spare it.
        let hooks = context.compact ? nil : state.alertHooks.flatMap { $0.hookCount > 0 ? $0 : nil }
        let hookRows = hooks == nil ? 0 : 1
        let split = layout(rect.height - hookRows, queueCount: rows.count, alertCount: alerts.count, compact: context.compact)
        let parts = Layout.vertical(rect, [.fixed(split.table), .fixed(split.alerts), .fixed(hookRows), .flexible])
        let chartRows = parts[3].height

        let filter = state.activeFilter.isEmpty ? "" : context.dot + "/\(state.activeFilter)"
        let counted = rows.count == snapshot.queues.count ? "\(rows.count)" : "\(rows.count) of \(snapshot.queues.count)"
        let title = "Queues (\(counted))\(filter)\(context.dot)done, trend: last hour"
        let tableArea = context.section(title, in: parts[0], into: &buffer)
        queueTable(rows, context: context, width: tableArea.width).draw(into: &buffer, in: tableArea)

        AlertLines.draw(alerts, context: context, into: &buffer, in: parts[1])
        if let hooks { HookDeliveryLine.draw(hooks, context: context, into: &buffer, in: parts[2]) }
        if chartRows > 0 && !context.compact {
            drawChartAndErrors(context, snapshot: snapshot, into: &buffer, in: parts[3])
        }
    }

    /// Rows for the table and the alert lines; the chart gets the rest. The table takes what its
    /// queues need first (as long as one alert line and the smallest chart still fit), then
    /// spare rows show more alerts (up to 4); the chart never grows past half the screen, and
    /// what is left goes back to the table.
    static func layout(_ height: Int, queueCount: Int, alertCount: Int, compact: Bool) -> (table: Int, alerts: Int) {
        if compact {
            let alerts = min(1, alertCount)
            return (max(0, height - alerts), alerts)
        }
        let chartMin = 9
        let tableNeeded = max(1, queueCount) + 3  // frame and header
        var table = min(tableNeeded, max(0, height - chartMin - 1))
        let spare = max(0, height - table - chartMin - 1)
        let alerts = min(height - table, 1 + min(max(0, alertCount - 1), 3, spare))
        let chart = max(0, min(max(chartMin, height / 2), height - table - alerts))
        table = height - alerts - chart
        return (table, alerts)
    }

    /// The sparkline column's width: wider terminals see more minutes of the last hour.
    static func trendWidth(tableWidth: Int) -> Int { tableWidth >= 150 ? 30 : tableWidth >= 110 ? 20 : 8 }

    /// One column of the queue table: its header, how to fill a cell, and its style rule.
    private struct QueueColumn {
        let id: String
        let column: TableColumn
        let cell: (QueueHealth) -> String
        var style: (QueueHealth) -> Style? = { _ in nil }
    }

    /// The longest a queue name gets before it is cut (with `…`).
    static let nameMaxWidth = 20
    /// The columns given up, in this order, when the names would otherwise be cut: the middle
    /// percentile first, then the median, the trend, the hour's done count, the forecast. The
    /// counts, the DLQ, the oldest age and p99 (what an operator acts on) always stay.
    static let dropOrder = ["P95", "P50", "TREND", "DONE", "DRAIN"]

    static func queueTable(_ queues: [QueueHealth], context: ScreenContext, width: Int) -> Table {
        let compact = context.compact
        let sparkWidth = trendWidth(tableWidth: width)
        let nameWidth = max(8, min(nameMaxWidth, queues.map { DisplayWidth.of($0.name) }.max() ?? 0))
        var columns: [QueueColumn] = [
            QueueColumn(id: "QUEUE", column: TableColumn("QUEUE", minWidth: 8, flexible: true), cell: { $0.name }),
            QueueColumn(id: "STATE", column: TableColumn("STATE", minWidth: 5), cell: QueueText.state,
                        style: QueueText.stateStyle),
            QueueColumn(id: "PEND", column: TableColumn("PEND", alignment: .right), cell: { ViewText.count($0.counts.pending) }),
            QueueColumn(id: "PROC", column: TableColumn("PROC", alignment: .right), cell: { ViewText.count($0.counts.processing) }),
            QueueColumn(id: "DONE", column: TableColumn("DONE", alignment: .right), cell: { ViewText.count($0.lastHour.completed) }),
            QueueColumn(id: "DLQ", column: TableColumn("DLQ", alignment: .right), cell: { ViewText.count($0.counts.deadLetter) },
                        style: { QueueText.dlqAlarming($0) ? .error : nil }),
            QueueColumn(id: "OLDEST", column: TableColumn("OLDEST", alignment: .right), cell: QueueText.oldest,
                        style: { QueueText.oldestAlarming($0) ? .warn : nil }),
            QueueColumn(id: "DRAIN", column: TableColumn("DRAIN", alignment: .right), cell: QueueText.drainCell,
                        style: { QueueText.growingAlarm($0) ? .warn : nil }),
            QueueColumn(id: "P50", column: TableColumn("P50", alignment: .right), cell: { ViewText.latency($0.latencyMs.p50) }),
            QueueColumn(id: "P95", column: TableColumn("P95", alignment: .right), cell: { ViewText.latency($0.latencyMs.p95) }),
            QueueColumn(id: "P99", column: TableColumn("P99", alignment: .right), cell: { ViewText.latency($0.latencyMs.p99) }),
            QueueColumn(id: "TREND", column: TableColumn("TREND", minWidth: sparkWidth, maxWidth: sparkWidth),
                        cell: { Sparkline($0.throughputPerMinute.map { Double($0.completed) }).render(width: sparkWidth, glyphs: context.glyphs) },
                        style: { _ in .role(.bar) }),
        ]
        if compact {
            columns.removeAll { ["DONE", "DRAIN", "P50", "P95", "P99", "TREND"].contains($0.id) }
        } else {
            // Give the names their width (up to nameMaxWidth) by leaving out the least
            // important figures, one at a time, until the rest fits (80 columns: P95 and P50).
            func needed(_ cols: [QueueColumn]) -> Int {
                let gutter = 1
                return gutter + cols.count - 1 + cols.reduce(0) { sum, c in
                    if c.id == "QUEUE" { return sum + nameWidth }
                    let content = queues.reduce(DisplayWidth.of(c.column.title)) { max($0, DisplayWidth.of(c.cell($1))) }
                    return sum + max(c.column.minWidth, min(content, c.column.maxWidth ?? Int.max))
                }
            }
            for id in dropOrder where needed(columns) > width {
                columns.removeAll { $0.id == id }
            }
        }
        let rows = queues.map { q -> TableRow in
            var styles: [Int: Style] = [:]
            for (i, c) in columns.enumerated() { if let style = c.style(q) { styles[i] = style } }
            return TableRow(columns.map { $0.cell(q) }, style: q.paused ? .muted : .normal, cellStyles: styles)
        }
        let empty = context.state.activeFilter.isEmpty ? "No queues yet: jobs create them when enqueued"
            : "No queue matches /\(context.state.activeFilter)"
        return Table(columns: columns.map(\.column), rows: rows, selectedIndex: rows.isEmpty ? nil : context.state.cursorRow,
                     emptyText: empty)
    }

    static func drawChartAndErrors(_ context: ScreenContext, snapshot: HealthSnapshot, into buffer: inout ScreenBuffer, in rect: Rect) {
        guard let queue = context.state.focusedQueue else {
            _ = context.section("Throughput, 24h", in: rect, into: &buffer)
            return
        }
        let halves = Layout.horizontal(rect, [.flexible(weight: 3), .flexible(weight: 2)])
        QueueCharts.drawHourly(queue, context: context, into: &buffer, in: halves[0])
        QueueCharts.drawErrors(queue.name, snapshot: snapshot, context: context, into: &buffer, in: halves[1])
    }
}

/// Up to `rect.height` alert lines, worst first; the last says how many more there are.
enum AlertLines {
    static func draw(_ alerts: [Alert], context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        guard !alerts.isEmpty else {
            buffer.write(" no alerts", in: rect.row(0), style: .role(.ok))
            return
        }
        let shown = min(alerts.count, rect.height)
        for i in 0..<shown {
            var text = ViewText.oneLine(alerts[i].message)
            if i == shown - 1 && alerts.count > shown { text += " (+\(alerts.count - shown) more)" }
            Banner(text, level: .warn).draw(into: &buffer, in: rect.row(i))
        }
    }
}

/// The latest alert hook delivery on one line: did the people on call hear about the alerts above?
/// Outcome and age first, so an 80-column terminal cuts only the alert key:
/// "hook ops-slack, 1m ago: failed HTTP 503, will retry · firing emails:dlq_above_threshold".
enum HookDeliveryLine {
    static func draw(_ hooks: AlertHookSummary, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let (text, style) = line(hooks, context: context)
        buffer.write(" " + text, in: rect.row(0), style: style)
    }

    static func line(_ hooks: AlertHookSummary, context: ScreenContext) -> (String, Style) {
        let count = hooks.hookCount == 1 ? "1 alert hook" : "\(hooks.hookCount) alert hooks"
        guard let d = hooks.lastDelivery else { return ("\(count), no delivery yet", .muted) }
        var result: String
        if d.ok {
            result = d.httpStatus.map { "ok, HTTP \($0)" } ?? "ok"
        } else {
            result = "failed " + (d.httpStatus.map { "HTTP \($0)" } ?? ViewText.oneLine(d.error ?? "without an answer"))
            // The notification's fate after this attempt: still retrying, or given up.
            result += d.notificationStatus == "pending" ? ", will retry" : d.notificationStatus == "failed" ? ", gave up" : ""
        }
        let text = "hook \(d.hook), \(context.age(d.at)) ago: \(result)\(context.dot)\(d.event) \(d.alertKey)"
        let style: Style = d.ok ? .muted : d.notificationStatus == "pending" ? .warn : .error
        return (text, style)
    }
}

/// How the figures of one queue read, shared by the overview and the queue screen.
enum QueueText {
    static func state(_ q: QueueHealth) -> String {
        // Blank when all is well, so the exceptions stand out; "cb" is the circuit breaker.
        if q.paused { return "paused" }
        switch q.circuit {
        case "open": return "cb open"
        case "half_open": return "cb half"
        default: return ""
        }
    }

    /// A pause is an operator's decision (the demo's lead_migrations is paused so the producer
    /// paces it), not a fault: it reads dim, like the row, and only a circuit breaker warns.
    static func stateStyle(_ q: QueueHealth) -> Style {
        if q.circuit == "open" { return .error }
        if q.circuit == "half_open" { return .warn }
        return q.paused ? .muted : .role(.ok)
    }

    /// The DRAIN cell: the forecast, except on a paused queue, which does not drain by design
    /// ("growing" there would be an alarm about the pause itself).
    static func drainCell(_ q: QueueHealth) -> String {
        q.paused ? "-" : q.forecast?.short ?? ""
    }

    /// A backlog growing while workers take from it; a paused queue's backlog may grow.
    static func growingAlarm(_ q: QueueHealth) -> Bool {
        !q.paused && q.forecast?.state == "growing"
    }

    static func oldest(_ q: QueueHealth) -> String {
        Format.oldestPending(seconds: q.oldestPendingSeconds, pending: q.counts.pending)
    }

    /// "drains in ~104m", "backlog growing": the forecast in a figure line.
    static func drain(_ f: DrainForecast) -> String {
        f.state == "clears" ? "drains in " + f.short : "backlog " + f.short
    }

    static func dlqAlarming(_ q: QueueHealth) -> Bool {
        q.counts.deadLetter > 0 && q.counts.deadLetter >= Int64(q.settings.dlqAlertThreshold)
    }

    static func oldestAlarming(_ q: QueueHealth) -> Bool {
        q.oldestPendingSeconds > 0 && q.oldestPendingSeconds >= Int64(q.settings.oldestPendingAlertS)
    }
}

/// The charts of one queue: completed jobs per hour over 24 h, and its top error types.
enum QueueCharts {
    static func drawHourly(_ queue: QueueHealth, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let markers = ChartMarks.hourly(queue, context: context)
        let legend = ChartMarks.legend(markers, context: context)
        // At 80 columns the long title cut the legend to "▼ dep…", leaving the "!" over the bars
        // unexplained: a shorter one keeps it (the axis says the 24 hours), the shortest only the
        // queue's name and the legend.
        let titles = ["\(queue.name)\(context.dot)completed/hour, 24h UTC\(legend)",
                      "\(queue.name)\(context.dot)done/h, UTC\(legend)", "\(queue.name)\(legend)"]
        let title = titles.first { DisplayWidth.of($0) + 4 <= rect.width } ?? titles[2]
        let area = context.section(title, in: rect, into: &buffer, framed: true)
        guard !area.isEmpty else { return }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let labels = queue.throughputPerHour.map { point -> String in
            let hour = calendar.component(.hour, from: point.hour)
            return hour % 6 == 0 ? "\(hour)h" : ""
        }
        let values = queue.throughputPerHour.map { Double($0.completed) }
        guard values.contains(where: { $0 > 0 }) else {
            context.message("no jobs completed in 24h", in: area, into: &buffer)
            return
        }
        BarChart(values: values, labels: labels, markers: markers).draw(into: &buffer, in: area)
    }

    static func drawMinutes(_ queue: QueueHealth, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let markers = ChartMarks.perMinute(queue, context: context)
        let area = context.section("\(queue.name)\(context.dot)completed/minute, last hour\(ChartMarks.legend(markers, context: context))",
                                   in: rect, into: &buffer, framed: true)
        guard !area.isEmpty else { return }
        let values = queue.throughputPerMinute.map { Double($0.completed) }
        guard values.contains(where: { $0 > 0 }) else {
            context.message("no jobs completed in the last hour", in: area, into: &buffer)
            return
        }
        let count = values.count
        let labels = values.indices.map { i -> String in
            let minutesAgo = count - 1 - i
            return minutesAgo % 15 == 0 ? (minutesAgo == 0 ? "now" : "-\(minutesAgo)m") : ""
        }
        BarChart(values: values, labels: labels, gap: 0, markers: markers).draw(into: &buffer, in: area)
    }

    static func drawErrors(_ queueName: String, snapshot: HealthSnapshot, context: ScreenContext,
                           into buffer: inout ScreenBuffer, in rect: Rect) {
        let area = context.section("Top errors, 24h", in: rect, into: &buffer, framed: true)
        let errors = snapshot.errorTypes.filter { $0.queue == queueName }
        Table(columns: [TableColumn("TYPE: PATTERN", minWidth: 8, flexible: true),
                        TableColumn("N", alignment: .right), TableColumn("LAST", alignment: .right)],
              rows: errors.flatMap { errorRows($0, lastSeen: context.age($0.lastSeen)) },
              emptyText: "no errors in 24h")
            .draw(into: &buffer, in: area)
    }

    /// Two rows per error group, most frequent first: the type and the normalised pattern with
    /// the count, then (muted) the newest message as a sample. The snapshot already groups by
    /// fingerprint, so nothing is normalised here. Both come from the database: the table
    /// sanitises every cell it writes.
    static func errorRows(_ e: ErrorTypeSummary, lastSeen: String) -> [TableRow] {
        let heading = e.pattern.map { "\(e.errorType): \($0.isEmpty ? "(no message)" : $0)" } ?? e.errorType
        var rows = [TableRow([heading, ViewText.count(e.count), lastSeen], cellStyles: [1: .error])]
        if let sample = e.sampleMessage, !sample.isEmpty, sample != e.pattern {
            rows.append(TableRow(["  e.g. " + ViewText.oneLine(sample), "", ""], style: .muted))
        }
        return rows
    }
}
