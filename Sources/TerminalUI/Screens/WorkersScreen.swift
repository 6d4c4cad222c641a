import Foundation
import QueueStore

/// Every worker on every host; under them the jobs the selected worker holds (the busy view);
/// under those each queue's circuit breaker.
enum WorkersScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard let snapshot = context.snapshot(orExplainIn: rect, into: &buffer) else { return }
        let breakers = snapshot.circuitBreakers
        let breakerRows = breakers.isEmpty ? 0 : min(breakers.count, context.compact ? 2 : 8) + (context.compact ? 1 : 3)
        let workers = state.visibleWorkers
        // The workers get the rows they need (up to a cap), the busy view the rest: it is what
        // an operator opens this screen to read.
        let workerRows = min(max(1, workers.count), context.compact ? 4 : 8) + (context.compact ? 1 : 3)
        let parts = Layout.vertical(rect, [.fixed(workerRows), .atLeast(3), .fixed(breakerRows)])
        drawWorkers(workers, context: context, into: &buffer, in: parts[0])
        if let worker = state.focusedWorker { drawBusy(worker, context: context, into: &buffer, in: parts[1]) }
        if breakerRows > 0 { drawBreakers(breakers, context: context, into: &buffer, in: parts[2]) }
    }

    static func drawWorkers(_ workers: [WorkerInfo], context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let hosts = Set(workers.compactMap(\.host)).count
        // How many run is the snapshot's count (the footer's and `status`'s); the rows listed
        // also include workers stopped or dead within the hour.
        let counts = state.snapshot?.workerCounts ?? WorkerCounts(live: 0, lost: 0)
        let title = "Workers: \(counts.live) running\(counts.lost > 0 ? ", \(counts.lost) lost" : "")"
            + " (\(workers.count) listed on \(hosts == 1 ? "1 host" : "\(hosts) hosts"))"
        let area = context.section(title, in: rect, into: &buffer)
        var columns = [TableColumn("HOST", minWidth: 6, maxWidth: 24), TableColumn("PID", alignment: .right),
                       TableColumn("QUEUES", minWidth: 8, flexible: true), TableColumn("CONC", alignment: .right),
                       TableColumn("BUSY", alignment: .right), TableColumn("BUF", alignment: .right),
                       TableColumn("STATUS", minWidth: 8),
                       TableColumn("SEEN", alignment: .right)]
        if !context.compact { columns.append(TableColumn("UP", alignment: .right)) }
        let rows = workers.map { w -> TableRow in
            let buffered: String = w.buffered.map(String.init) ?? "-"
            // BUSY is the handlers running (never above CONC); the registry's in_flight also
            // counts the jobs claimed ahead, which are BUF.
            let busy = max(0, w.inFlight - (w.buffered ?? 0))
            var cells: [String] = [w.host ?? "?", w.pid.map(String.init) ?? "-", w.queues.isEmpty ? "(all)" : w.queues.joined(separator: ","),
                                   w.concurrency.map(String.init) ?? "-", "\(busy)", buffered, w.status, context.age(w.lastSeen)]
            if !context.compact { cells.append(context.age(w.startedAt)) }
            let style: Style = w.status == "lost" ? .error : w.status == "running" ? .role(.ok) : .warn
            return TableRow(cells, style: w.status == "stopped" || w.status == "dead" ? .muted : .normal, cellStyles: [6: style])
        }
        let empty = state.activeFilter.isEmpty ? "No workers registered: start one with `queuetop worker`."
            : "No worker matches /\(state.activeFilter)"
        // While the cursor is in a worker's jobs, its row stays marked so the two panes read as one.
        let selected = state.busyWorker.flatMap { id in workers.firstIndex { $0.id == id } } ?? state.cursorRow
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : selected, emptyText: empty)
            .draw(into: &buffer, in: area)
    }

    /// The busy view: what one worker is running, oldest first, how long each has run and how
    /// old its lease heartbeat is. Enter on a worker moves the cursor here; Enter on a job opens it.
    static func drawBusy(_ worker: WorkerInfo, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let jobs = state.busyJobs(of: worker.id)
        let shown = jobs.count < worker.inFlight && jobs.count >= WorkerFleetStore.defaultJobsPerWorker
            ? "oldest \(jobs.count) of \(worker.inFlight)" : (jobs.count == 1 ? "1 job" : "\(jobs.count) jobs")
        // Jobs claimed ahead (the prefetch buffer) are processing rows like running ones: the
        // worker's heartbeat says how many of them have not started.
        let buffered = (worker.buffered ?? 0) > 0 ? ", \(worker.buffered!) not started" : ""
        let hint = state.busyWorker == nil && !jobs.isEmpty ? "\(context.dot)Enter: browse" : ""
        let area = context.section("In flight on worker \(worker.host ?? "?") pid \(worker.pid.map(String.init) ?? "?") (\(shown)\(buffered))\(hint)",
                                   in: rect, into: &buffer)
        let columns = [TableColumn("JOB", minWidth: 8, maxWidth: 8), TableColumn("QUEUE", minWidth: 6, maxWidth: 20),
                       TableColumn("TYPE", minWidth: 6, flexible: true), TableColumn("TENANT", minWidth: 6, maxWidth: 16),
                       TableColumn("RUNNING", alignment: .right), TableColumn("HEARTBEAT", alignment: .right)]
        let rows = jobs.map { job in
            TableRow([ViewText.shortID(job.id), job.queue, job.jobType, job.tenant ?? "-",
                      context.age(job.startedAt), context.age(job.heartbeatAt) + " ago"])
        }
        let empty = worker.inFlight > 0 ? "Loading its jobs\(context.ellipsis)" : "No job in flight."
        Table(columns: columns, rows: rows, selectedIndex: state.busyWorker == nil || rows.isEmpty ? nil : state.cursorRow,
              emptyText: empty)
            .draw(into: &buffer, in: area)
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
