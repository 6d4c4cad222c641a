import Dashboard
import Foundation

/// The embedded worker pool's recent events, newest first: time, level, queue, job, message.
/// Every value went through the pool's log handler as data; here it is drawn through
/// `ViewText.oneLine` like any other text from outside. A start-up failure of the pool is its
/// first line (and stays in the footer).
enum LogScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let lines = state.visiblePoolLog
        let area = context.section("Worker log (\(lines.count), newest first)", in: rect, into: &buffer)
        if state.poolLog.isEmpty {
            context.message(emptyText(state), in: area, into: &buffer)
            return
        }
        // Each field once: a job event's message (which repeats the job, queue and type) is
        // replaced by `detail`, so the error gets the room. The job type has a column from
        // 100 columns on; at 80 the error matters more.
        let showsType = area.width >= typeColumnMinWidth && !context.compact
        var columns = [TableColumn("TIME", alignment: .right), TableColumn("LEVEL", minWidth: 5, maxWidth: 8),
                       TableColumn("QUEUE", minWidth: 5, maxWidth: 16), TableColumn("JOB", minWidth: 8, maxWidth: 8)]
        if showsType { columns.append(TableColumn("TYPE", minWidth: 4, maxWidth: 16)) }
        columns.append(TableColumn("MESSAGE", minWidth: 10, flexible: true))
        if context.compact { columns.remove(at: 3) }
        let rows = lines.map { line -> TableRow in
            var cells = [ViewText.clock(line.time, now: state.now), line.level.uppercased(),
                         ViewText.oneLine(line.queue ?? ""), line.jobID.map { String($0.uuidString.lowercased().prefix(8)) } ?? ""]
            if showsType { cells.append(ViewText.oneLine(line.jobEvent?.type ?? "")) }
            cells.append(ViewText.oneLine(line.detail))
            if context.compact { cells.remove(at: 3) }
            return TableRow(cells)
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow,
              emptyText: "No log line matches /\(state.activeFilter)")
            .draw(into: &buffer, in: area)
    }

    /// The narrowest log table with a TYPE column.
    static let typeColumnMinWidth = 100

    static func emptyText(_ state: DashboardState) -> String {
        "No worker event yet. The embedded workers log here (queuetop dash --no-workers runs none)."
    }
}
