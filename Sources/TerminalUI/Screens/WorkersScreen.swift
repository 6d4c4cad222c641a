import Foundation
import QueueStore

/// Every worker on every host, and under them each queue's circuit breaker.
enum WorkersScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard let snapshot = context.snapshot(orExplainIn: rect, into: &buffer) else { return }
        let breakers = snapshot.circuitBreakers
        let breakerRows = breakers.isEmpty ? 0 : min(breakers.count, context.compact ? 2 : 8) + (context.compact ? 1 : 3)
        let parts = Layout.vertical(rect, [.atLeast(3), .fixed(breakerRows)])
        let workers = state.visibleWorkers
        let hosts = Set(workers.compactMap(\.host)).count
        // How many run is the snapshot's count (the footer's and `status`'s); the rows listed
        // also include workers stopped or dead within the hour.
        let counts = snapshot.workerCounts
        let title = "Workers: \(counts.live) running\(counts.lost > 0 ? ", \(counts.lost) lost" : "")"
            + " (\(workers.count) listed on \(hosts == 1 ? "1 host" : "\(hosts) hosts"))"
        let area = context.section(title, in: parts[0], into: &buffer)
        var columns = [TableColumn("HOST", minWidth: 6, maxWidth: 24), TableColumn("PID", alignment: .right),
                       TableColumn("QUEUES", minWidth: 8, flexible: true), TableColumn("CONC", alignment: .right),
                       TableColumn("BUSY", alignment: .right), TableColumn("STATUS", minWidth: 7),
                       TableColumn("SEEN", alignment: .right)]
        if !context.compact { columns.append(TableColumn("UP", alignment: .right)) }
        let rows = workers.map { w -> TableRow in
            var cells = [w.host ?? "?", w.pid.map(String.init) ?? "-", w.queues.isEmpty ? "(all)" : w.queues.joined(separator: ","),
                         w.concurrency.map(String.init) ?? "-", "\(w.inFlight)", w.status, context.age(w.lastSeen)]
            if !context.compact { cells.append(context.age(w.startedAt)) }
            let style: Style = w.status == "lost" ? .error : w.status == "running" ? .role(.ok) : .warn
            return TableRow(cells, style: w.status == "stopped" || w.status == "dead" ? .muted : .normal, cellStyles: [5: style])
        }
        let empty = state.activeFilter.isEmpty ? "No workers registered: start one with `queuetop worker`."
            : "No worker matches /\(state.activeFilter)"
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow, emptyText: empty)
            .draw(into: &buffer, in: area)
        if breakerRows > 0 { drawBreakers(breakers, context: context, into: &buffer, in: parts[1]) }
    }

    static func drawBreakers(_ breakers: [CircuitInfo], context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let open = breakers.filter { $0.state != "closed" }.count
        let area = context.section("Circuit breakers (\(open) not closed)", in: rect, into: &buffer)
        // Open ones first: they are why a queue stopped moving.
        let order = ["open": 0, "half_open": 1]
        let sorted = breakers.enumerated().sorted { (order[$0.element.state] ?? 2, $0.offset) < (order[$1.element.state] ?? 2, $1.offset) }.map(\.element)
        // Unframed (compact), the first column's title has to say what these rows are.
        Table(columns: [TableColumn(context.compact ? "CIRCUIT" : "QUEUE", minWidth: 6, flexible: true), TableColumn("STATE", minWidth: 6),
                        TableColumn("FAILURES", alignment: .right), TableColumn("OPENED", alignment: .right),
                        TableColumn("RETRY IN", alignment: .right), TableColumn("CHANGED", alignment: .right)],
              rows: sorted.map { c in
                  TableRow([c.queue, c.state.replacingOccurrences(of: "_", with: "-"), "\(c.consecutiveFailures)",
                            c.openedAt.map { context.age($0) + " ago" } ?? "-",
                            c.state == "open" ? context.countdown(to: c.reopenAt) : "-", context.age(c.updatedAt) + " ago"],
                           cellStyles: [1: c.state == "open" ? .error : c.state == "half_open" ? .warn : .role(.ok)])
              })
            .draw(into: &buffer, in: area)
    }
}
