import Foundation
import QueueStore

/// Operator actions, newest first: when, who (OS user@host and database role), what, on which
/// filter, how many rows.
enum AuditScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        // In the order the store gives (newest first): the cursor indexes this same list.
        let entries = state.visibleAudit
        // The selected row in full below the list: filters are JSON and rarely fit in a column.
        let detailRows = context.compact || entries.isEmpty ? 0 : 6
        let parts = Layout.vertical(rect, [.flexible, .fixed(detailRows)])
        let area = context.section("Audit log (\(entries.count), newest first)", in: parts[0], into: &buffer)
        if state.audit.isEmpty {
            context.message(state.snapshot == nil ? context.noSnapshotText : "No operator action recorded yet.", in: area, into: &buffer)
            return
        }
        // What was done and to how many rows is what the operator reads the list for: ACTION and
        // N are never cut (the table grows columns left to right, so a minimum is what holds
        // them at 80 columns, where "lead_migration.queue" and "60k" once showed as "lead_…" and
        // "…"). ROLE goes when it only repeats the actor: since 0014 the actor is the login role.
        let actionWidth = min(20, entries.map { DisplayWidth.of($0.action) }.max() ?? 6)
        let countWidth = entries.map { DisplayWidth.of(ViewText.count($0.affected)) }.max() ?? 1
        let showsRole = entries.contains { $0.actor != $0.databaseRole }
        // Below 110 columns the FILTER column was left ~6 cells, unreadable. There the clock goes
        // (AGO stays; the detail pane below gives the time) and the actor is held to 16 cells
        // (the detail pane has it whole): the filter gets what they gave up. A compact screen,
        // which has no detail pane, keeps the clock and drops AGO instead.
        let narrow = !context.compact && area.width < 110
        var columns = [TableColumn("TIME UTC", alignment: .right), TableColumn("AGO", alignment: .right),
                       TableColumn("ACTOR", minWidth: 8, maxWidth: narrow ? 16 : 28), TableColumn("ROLE", minWidth: 4, maxWidth: narrow ? 12 : 16),
                       TableColumn("ACTION", minWidth: max(6, actionWidth), maxWidth: 20),
                       TableColumn("N", alignment: .right, minWidth: countWidth),
                       TableColumn("FILTER", minWidth: 8, flexible: true)]
        func drop<T>(_ list: inout [T]) {
            if !showsRole { list.remove(at: 3) }
            if context.compact { list.remove(at: 1) }
            if narrow { list.remove(at: 0) }
        }
        drop(&columns)
        let rows = entries.map { e -> TableRow in
            var cells = [ViewText.clock(e.at, now: state.now), context.age(e.at), AuditFilterText.actor(e, unknown: "(unknown)"), e.databaseRole,
                         e.action, ViewText.count(e.affected), AuditFilterText.summary(e, context: context)]
            drop(&cells)
            return TableRow(cells)
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow,
              emptyText: "No audit row matches /\(state.activeFilter)")
            .draw(into: &buffer, in: area)
        if detailRows > 0 {
            drawDetail(entries[state.cursorRow], context: context, into: &buffer, in: parts[1])
        }
    }

    static func drawDetail(_ e: AuditEntry, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let box = context.section("Action #\(e.id)", in: rect, into: &buffer, framed: true).inset(dx: 1, dy: 0)
        var p = Pairs()
        p.add("who", "\(AuditFilterText.actor(e, unknown: "(unknown OS user)")) as database role \(e.databaseRole)")
        p.add("what", "\(e.action)\(context.dot)\(e.affected == 1 ? "1 row" : "\(ViewText.grouped(e.affected)) rows")\(context.dot)\(ViewText.clock(e.at, now: context.now)) UTC, \(context.age(e.at)) ago")
        p.items += AuditFilterText.detail(e, width: box.width).items
        p.draw(into: &buffer, in: box)
    }
}
