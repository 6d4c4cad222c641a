import Foundation
import QueueStore

/// The queue screen's per-type table: each job type's last hour (the snapshot's `types`: the 10
/// busiest by name, then "other"). Type names are producers' free text; the screen buffer shows
/// any control character in them as `?`.
enum QueueTypesPane {
    static let title = "Job types, last hour"

    static func draw(_ queue: QueueHealth, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let area = context.section(title, in: rect, into: &buffer, framed: true)
        guard let types = queue.types else {
            context.message("per-type figures need `queuetop migrate` (0017)", in: area, into: &buffer)
            return
        }
        table(types).draw(into: &buffer, in: area)
    }

    static func table(_ types: [TypeHealth]) -> Table {
        let columns = [TableColumn("TYPE", minWidth: 6, flexible: true),
                       TableColumn("DONE", alignment: .right), TableColumn("FAIL", alignment: .right),
                       TableColumn("FAIL%", alignment: .right), TableColumn("P50", alignment: .right),
                       TableColumn("P95", alignment: .right), TableColumn("P99", alignment: .right)]
        let rows = types.map { t -> TableRow in
            let failing = (t.failRate ?? 0) >= 0.5
            return TableRow([t.type ?? "(other)", ViewText.count(t.completed), ViewText.count(t.failed),
                             t.failRate.map(ViewText.percent) ?? "-", ViewText.latency(t.p50), ViewText.latency(t.p95),
                             ViewText.latency(t.p99)],
                            style: t.other ? .muted : .normal, cellStyles: failing ? [3: .error] : [:])
        }
        return Table(columns: columns, rows: rows, emptyText: "no job finished in the last hour")
    }
}
