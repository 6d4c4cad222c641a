import Foundation
import QueueStore

/// The queue screen's per-type table: each job type's last hour (`types`: the 10 busiest by name,
/// then "other"; read for the open queue only, beside the refresh). Type names are producers'
/// free text; the screen buffer shows any control character in them as `?`.
enum QueueTypesPane {
    static let title = "Job types, last hour"

    static func draw(_ queue: QueueHealth, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let area = context.section(title, in: rect, into: &buffer, framed: true)
        guard let types = queue.types else {
            // Until this queue's own read answers (the refresh carries no per-type figures).
            context.message("loading the job types\(context.ellipsis)", in: area, into: &buffer)
            return
        }
        table(types, narrow: area.width < 44).draw(into: &buffer, in: area)
    }

    /// Narrow (the 80-column layout's side pane) drops FAIL, P50 and P95, so the names keep some
    /// room: the fail % and the p99 are what an operator scans for.
    static func table(_ types: [TypeHealth], narrow: Bool = false) -> Table {
        var columns = [TableColumn("TYPE", minWidth: 6, flexible: true), TableColumn("DONE", alignment: .right)]
        if !narrow { columns.append(TableColumn("FAIL", alignment: .right)) }
        columns.append(TableColumn("FAIL%", alignment: .right))
        if !narrow { columns += [TableColumn("P50", alignment: .right), TableColumn("P95", alignment: .right)] }
        columns.append(TableColumn("P99", alignment: .right))
        let rows = types.map { t -> TableRow in
            var cells = [t.type ?? "(other)", ViewText.count(t.completed)]
            if !narrow { cells.append(ViewText.count(t.failed)) }
            cells.append(t.failRate.map(ViewText.percent) ?? "-")
            if !narrow { cells += [ViewText.latency(t.p50), ViewText.latency(t.p95)] }
            cells.append(ViewText.latency(t.p99))
            let failing = (t.failRate ?? 0) >= 0.5
            return TableRow(cells, style: t.other ? .muted : .normal, cellStyles: failing ? [narrow ? 2 : 3: .error] : [:])
        }
        return Table(columns: columns, rows: rows, emptyText: "nothing finished in 1h")
    }
}
