import Foundation
import QueueStore

/// The incident timeline (docs/TIMELINE.md): deploy marks, alerts fired and cleared, and the
/// audit trail's operator actions, newest first, over the last 24 hours.
enum TimelineScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let entries = state.visibleTimeline
        // The selected entry in full below the list: messages and filters rarely fit a column.
        let detailRows = context.compact || entries.isEmpty ? 0 : 7
        let parts = Layout.vertical(rect, [.flexible, .fixed(detailRows)])
        let all = state.timeline ?? []
        let marks = all.filter { $0.source == .mark }.count
        let alerts = all.filter { $0.event == "alert.firing" }.count
        let area = context.section("Timeline, 24h (\(entries.count)\(context.dot)\(marks) marks\(context.dot)\(alerts) alerts fired)",
                                   in: parts[0], into: &buffer)
        guard !all.isEmpty else {
            context.message(emptyText(context), in: area, into: &buffer)
            return
        }
        // Below 110 columns WHAT, the column read, was left ~28 cells by a clock of 14 ("11-21
        // 19:10:00" on an entry of yesterday). There only AGO stays (the detail box below says
        // the time) and QUEUE is held to 16 cells (the demo's lead_migrations whole); a compact
        // screen, which has no detail box, keeps the clock instead of AGO. WHO needs 110 columns
        // (WHAT says "by ana" for a cancel).
        let wide = area.width >= 110
        var columns: [TableColumn] = []
        if wide || context.compact { columns.append(TableColumn("TIME UTC", alignment: .right)) }
        if !context.compact { columns.append(TableColumn("AGO", alignment: .right)) }
        columns += [TableColumn("EVENT", minWidth: 6, maxWidth: 20), TableColumn("QUEUE", minWidth: 5, maxWidth: wide ? 20 : 16)]
        if wide { columns.append(TableColumn("WHO", minWidth: 4, maxWidth: 20)) }
        columns.append(TableColumn("WHAT", minWidth: 8, flexible: true))
        let event = (wide || context.compact ? 1 : 0) + (context.compact ? 0 : 1)
        let rows = entries.map { e -> TableRow in
            var cells: [String] = []
            if wide || context.compact { cells.append(ViewText.clock(e.at, now: state.now)) }
            if !context.compact { cells.append(context.age(e.at)) }
            cells += [eventLabel(e, context: context), e.queue ?? "-"]
            if wide { cells.append(e.actor ?? "-") }
            cells.append(ViewText.oneLine(summary(e, dot: context.dot)))
            return TableRow(cells, cellStyles: [event: style(e)])
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow,
              emptyText: "Nothing on the timeline matches /\(state.activeFilter)")
            .draw(into: &buffer, in: area)
        if detailRows > 0 { drawDetail(entries[state.cursorRow], context: context, into: &buffer, in: parts[1]) }
    }

    static func emptyText(_ context: ScreenContext) -> String {
        let state = context.state
        if state.timeline == nil { return state.snapshot == nil ? context.noSnapshotText : "loading the timeline\(context.ellipsis)" }
        return "Nothing happened in the last 24 hours. Mark a deploy with: queuetop mark \"deploy v42\""
    }

    /// The glyph the charts put on the hour (deploy ▼ / v), then the event's name.
    static func eventLabel(_ e: TimelineEntry, context: ScreenContext) -> String {
        switch e.source {
        case .mark: return "\(context.glyphs.arrowDown) \(e.event)"
        case .alert: return e.event == "alert.firing" ? "! alert fired" : "  alert cleared"
        case .audit: return e.event
        }
    }

    /// What the WHAT column says: the mark's label, the alert's message, a cancel in words
    /// (CancelAuditText), other actions' filter with its row count.
    static func summary(_ e: TimelineEntry, dot: String) -> String {
        switch e.source {
        case .mark, .alert: return e.summary
        case .audit:
            if let words = CancelAuditText.summary(e, dot: dot) { return words }
            let rows = e.affected == 1 ? "1 row" : "\(ViewText.grouped(e.affected)) rows"
            return "\(rows): \(e.summary)"
        }
    }

    static func style(_ e: TimelineEntry) -> Style {
        switch e.event {
        case "alert.firing": return .error
        case "alert.cleared": return .role(.ok)
        default: return e.source == .mark ? .warn : .normal
        }
    }

    static func drawDetail(_ e: TimelineEntry, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let title: String
        switch e.source {
        case .mark: title = "Mark #\(e.id)"
        case .alert: title = "Alert event #\(e.id)"
        case .audit: title = "Action #\(e.id)"
        }
        let box = context.section(title, in: rect, into: &buffer, framed: true).inset(dx: 1, dy: 0)
        var p = Pairs()
        p.add("when", "\(ViewText.clock(e.at, now: context.now)) UTC, \(context.age(e.at)) ago")
        var what = e.event
        if let queue = e.queue { what += "\(context.dot)queue \(queue)" }
        if let actor = e.actor { what += "\(context.dot)by \(actor)" }
        p.add("what", what, style(e))
        for (i, line) in TextWrap.wrap(ViewText.oneLine(summary(e, dot: context.dot)), width: max(1, box.width - 12)).prefix(2).enumerated() {
            p.add(i == 0 ? "detail" : "", line)
        }
        p.add("Enter", opens(e), .muted)
        p.draw(into: &buffer, in: box)
    }

    /// Where Enter goes from this entry (Dashboard/Timeline.swift, openTimelineEntry).
    static func opens(_ e: TimelineEntry) -> String {
        if let job = e.jobID { return "opens job \(job.uuidString.lowercased())" }
        switch e.source {
        case .audit: return "opens audit row #\(e.id) on the Audit screen"
        case .alert: return e.queue.map { "opens queue \($0)" } ?? "nothing more to open"
        case .mark: return "nothing more to open: a mark is its label"
        }
    }
}
