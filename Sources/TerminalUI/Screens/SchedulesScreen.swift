import Foundation
import QueueStore

/// Recurring schedules (docs/SCHEDULES_AND_ALERTS.md): when each fires next, when it last fired
/// and what came of it, and how many ticks were coalesced because no ticker was running.
enum SchedulesScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let schedules = state.visibleSchedules
        // The selected schedule in full below the list: payloads and outcomes rarely fit a column.
        let detailRows = context.compact || schedules.isEmpty ? 0 : 7
        let parts = Layout.vertical(rect, [.flexible, .fixed(detailRows)])
        let enabled = schedules.filter(\.enabled).count
        let area = context.section("Schedules (\(schedules.count)\(context.dot)\(enabled) enabled)", in: parts[0], into: &buffer)
        guard let all = state.schedules, !all.isEmpty else {
            context.message(emptyText(context), in: area, into: &buffer)
            return
        }
        // What a narrower table gives up: the job type and missed ticks (both in the detail box
        // below), and on a compact terminal the queue too (the name usually says it). Every
        // header keeps its whole title (minWidth): the long values (names, six-field crons,
        // queues) are capped and end in an ellipsis instead, and "LAST OUTCOME" says "OUTCOME".
        let wide = area.width >= 110
        func column(_ title: String, _ alignment: Alignment = .left, max: Int? = nil, flexible: Bool = false) -> TableColumn {
            TableColumn(title, alignment: alignment, minWidth: DisplayWidth.of(title), maxWidth: max, flexible: flexible)
        }
        var columns = [column("NAME", max: wide ? 28 : 20), column("CRON", max: wide ? 20 : 14)]
        if !context.compact { columns.append(column(wide ? "QUEUE / TYPE" : "QUEUE", max: wide ? 32 : 12)) }
        columns += [column("ON"), column("NEXT", .right), column("LAST RUN", .right),
                    column(wide ? "LAST OUTCOME" : "OUTCOME", flexible: true)]
        if wide { columns.append(column("MISSED", .right)) }
        let rows = schedules.map { s -> TableRow in
            var cells = [s.name, s.cron]
            if !context.compact { cells.append(wide ? "\(s.queue) / \(s.jobType)" : s.queue) }
            cells += [s.enabled ? "yes" : "no", nextRun(s, context: context), lastRun(s, context: context),
                      ViewText.oneLine(s.lastOutcome ?? "-")]
            if wide { cells.append(ViewText.grouped(s.missedTicks)) }
            let on = cells.count - (wide ? 5 : 4)
            return TableRow(cells, style: s.enabled ? .normal : .muted,
                            cellStyles: [on: s.enabled ? .role(.ok) : .muted, on + 3: outcomeStyle(s.lastOutcome)])
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow,
              emptyText: "No schedule matches /\(state.activeFilter)")
            .draw(into: &buffer, in: area)
        if detailRows > 0 { drawDetail(schedules[state.cursorRow], context: context, into: &buffer, in: parts[1]) }
    }

    /// Loading, or nothing there — and then how to add one.
    static func emptyText(_ context: ScreenContext) -> String {
        let state = context.state
        if state.schedules == nil { return state.snapshot == nil ? context.noSnapshotText : "loading the schedules\(context.ellipsis)" }
        return "No schedules yet. Add one with: queuetop schedule add NAME CRON QUEUE TYPE [--payload JSON]"
    }

    /// "in 4m", "due" when a tick is waiting for a ticker, "off" when disabled (it will not fire).
    static func nextRun(_ s: Schedule, context: ScreenContext) -> String {
        guard s.enabled else { return "off" }
        guard s.nextRunAt > context.now else { return "due" }
        // Rounded up: "in 0s" would claim it is firing now.
        return "in " + Format.age(seconds: Format.clampedInt(s.nextRunAt.timeIntervalSince(context.now).rounded(.up)))
    }

    static func lastRun(_ s: Schedule, context: ScreenContext) -> String {
        s.lastRunAt.map { context.age($0) + " ago" } ?? "never"
    }

    /// Outcomes are `enqueued`, `deduplicated`, `run now` or `error: …` (Schedule.lastOutcome).
    static func outcomeStyle(_ outcome: String?) -> Style {
        guard let outcome else { return .muted }
        if outcome.hasPrefix("error") { return .error }
        return outcome.hasPrefix("deduplicated") ? .warn : .role(.ok)
    }

    static func drawDetail(_ s: Schedule, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let box = context.section("Schedule \(s.name)", in: rect, into: &buffer, framed: true).inset(dx: 1, dy: 0)
        let now = context.now
        var p = Pairs()
        p.add("enqueues", "\(s.jobType) on \(s.queue)\(context.dot)priority \(s.priority)\(context.dot)cron \(s.cron)")
        p.add("next", s.enabled ? "\(ViewText.clock(s.nextRunAt, now: now)) UTC (\(nextRun(s, context: context)))"
              : "disabled: e enables it, from the next tick on")
        var last = s.lastRunAt.map { "\(ViewText.clock($0, now: now)) UTC, \(context.age($0)) ago" } ?? "never run"
        if let job = s.lastJobID { last += "\(context.dot)job \(ViewText.shortID(job))" }
        if let outcome = s.lastOutcome { last += "\(context.dot)\(ViewText.oneLine(outcome))" }
        p.add("last", last, outcomeStyle(s.lastOutcome) == .error ? .error : .normal)
        p.add("payload", ViewText.oneLine(s.payload.raw))
        p.add("missed", s.missedTicks == 0 ? "none" : "\(ViewText.grouped(s.missedTicks)) missed ticks, coalesced into one run (not replayed)",
              s.missedTicks == 0 ? .muted : .warn)
        p.draw(into: &buffer, in: box)
    }
}
