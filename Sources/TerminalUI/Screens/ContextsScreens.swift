import Dashboard
import Foundation
import QueueStore

/// `:ctx`: the contexts of the file with their connection state, the current one marked, in a
/// centred box over the screen. Enter switches, `a` opens the all view, Esc closes.
enum ContextPickerOverlay {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in screen: Rect) {
        let state = context.state
        let entries = state.contexts.entries
        let width = min(screen.width, 96)
        let box = screen.centered(width: width, height: min(screen.height, entries.count + 5))
        buffer.fill(box)
        let title = "Contexts" + context.dot + "Enter switches" + context.dot + "a: all" + context.dot + "Esc closes"
        let inner = Box(title: title, borderStyle: .role(.accent), titleStyle: .title).draw(into: &buffer, in: box).inset(dx: 1, dy: 0)
        guard !inner.isEmpty else { return }
        let columns = [TableColumn("", minWidth: 1, maxWidth: 1), TableColumn("CONTEXT", minWidth: 8), TableColumn("STATE", minWidth: 12),
                       TableColumn("READS", minWidth: 7), TableColumn("LABELS", minWidth: 6, flexible: true)]
        let rows = entries.map { e -> TableRow in
            let word = e.stateWord(now: state.now, interval: state.refreshInterval)
            var reads = e.readsFromReplica ? "replica" : "primary"
            if e.readOnly { reads += " (read-only)" }
            if let lag = e.standby?.lagSeconds { reads += " lag \(Format.duration(seconds: Int(lag)))" }
            let style: Style = word == "ok" ? .role(.ok) : word == "connecting" ? .muted : .error
            return TableRow([e.name == state.contexts.current ? "*" : "", e.name, word, reads, ViewText.oneLine(e.labels)],
                            cellStyles: [2: style])
        }
        Table(columns: columns, rows: rows, selectedIndex: state.contexts.pickerCursor, emptyText: "no contexts")
            .draw(into: &buffer, in: inner)
    }
}

/// The all view: the overview of every context added up. The totals line, then one row per
/// queue per context (CONTEXT column) or one per queue summed over its contexts (`s`), then
/// every context's alerts worst first, each naming its context. A context that is down or
/// slow adds nothing and is named on the first line as such.
enum AllContextsScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let fresh = state.freshContextSummaries
        let totals = HealthSum.totals(fresh)
        let alerts = HealthSum.alerts(fresh)
        let rows = state.allViewRows
        let alertRows = min(max(1, alerts.count), context.compact ? 2 : 6)
        let parts = Layout.vertical(rect, [.fixed(2), .flexible, .fixed(alertRows)])

        // Line 1: every context's state; line 2: the totals.
        let states = state.contexts.entries.map { e in
            "\(e.name) \(e.stateWord(now: state.now, interval: state.refreshInterval))"
        }.joined(separator: context.dot)
        buffer.write(" " + states, in: parts[0].row(0), style: .muted)
        let down = state.contexts.entries.filter { $0.stateWord(now: state.now, interval: state.refreshInterval) != "ok" }
        let totalsText = " TOTAL\(context.dot)backlog \(ViewText.count(totals.backlog))\(context.dot)DLQ \(ViewText.count(totals.deadLetter))"
            + "\(context.dot)oldest \(Format.oldestPending(seconds: totals.oldestPendingSeconds, pending: totals.pending))\(context.dot)\(fresh.count) of \(state.contexts.entries.count) contexts"
            + (down.isEmpty ? "" : " (not counted: \(down.map(\.name).joined(separator: ", ")))")
        buffer.write(totalsText, in: parts[0].row(1), style: down.isEmpty ? .title : .role(.warn, .bold))

        let summed = state.contexts.sumByQueue
        let title = (summed ? "All contexts: one row per queue, summed over its contexts" : "All contexts: one row per queue per context")
            + context.dot + "s: " + (summed ? "per context" : "sum by queue")
        let area = context.section(title, in: parts[1], into: &buffer)
        var columns = [TableColumn(summed ? "CONTEXTS" : "CONTEXT", minWidth: 7), TableColumn("QUEUE", minWidth: 8, flexible: true),
                       TableColumn("STATE", minWidth: 6), TableColumn("PEND", alignment: .right), TableColumn("PROC", alignment: .right),
                       TableColumn("DLQ", alignment: .right), TableColumn("OLDEST", alignment: .right)]
        if !context.compact { columns.insert(TableColumn("DONE/1h", alignment: .right), at: 5) }
        let tableRows = rows.map { r -> TableRow in
            var cells = [r.context ?? r.contexts.joined(separator: ","), ViewText.oneLine(r.queue), r.paused ? "paused" : "active",
                         ViewText.count(r.pending), ViewText.count(r.processing)]
            if !context.compact { cells.append(ViewText.count(r.completedLastHour)) }
            // As the overview says it (QueueText.oldest): "-" for a queue with nothing pending, not
            // "0s", which reads as a job that just arrived; the two screens must not disagree.
            cells += [ViewText.count(r.deadLetter),
                      Format.oldestPending(seconds: r.oldestPendingSeconds, pending: r.pending)]
            return TableRow(cells, style: r.paused ? .muted : .normal)
        }
        Table(columns: columns, rows: tableRows, selectedIndex: rows.isEmpty ? nil : min(state.contexts.allCursor, rows.count - 1),
              emptyText: fresh.isEmpty ? "no context has answered yet" : "no queues in any context")
            .draw(into: &buffer, in: area)

        guard !alerts.isEmpty else {
            buffer.write(" no alerts in any context", in: parts[2].row(0), style: .role(.ok))
            return
        }
        let shown = min(alerts.count, parts[2].height)
        for i in 0..<shown {
            var text = "\(alerts[i].context): " + ViewText.oneLine(alerts[i].alert.message)
            if i == shown - 1 && alerts.count > shown { text += " (+\(alerts.count - shown) more)" }
            Banner(text, level: .warn).draw(into: &buffer, in: parts[2].row(i))
        }
    }
}
