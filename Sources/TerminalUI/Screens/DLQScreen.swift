import Foundation
import QueueStore

/// DLQ triage in three levels: groups (queue × error type) → the jobs of a group → one job.
/// A breadcrumb on the first row says where the operator is: "DLQ › emails / smtp_error › 0193ab12".
enum DLQScreen {
    /// Returns the job detail's scrolling room when one job is open (see `DashboardView.draw`).
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport? {
        let state = context.state
        let parts = Layout.vertical(rect, [.fixed(1), .flexible])
        drawBreadcrumb(context, into: &buffer, in: parts[0])
        switch state.dlqLevel {
        case .groups: drawGroups(context, into: &buffer, in: parts[1])
        case .jobs(let key): drawJobs(key, context: context, into: &buffer, in: parts[1])
        case .job: return JobDetailView.draw(state.shownJobDetail, context: context, into: &buffer, in: parts[1])
        }
        return nil
    }

    /// `fullID`: the open job's whole id, which the operator may copy into a log search; the
    /// short form when the row is too narrow for it.
    static func breadcrumb(_ context: ScreenContext, fullID: Bool = false) -> String {
        let state = context.state
        var crumbs = ["DLQ"]
        switch state.dlqLevel {
        case .groups: break
        case .jobs(let key): crumbs.append(key.label)
        case .job(let key, let id): crumbs += [key.label, fullID ? id.uuidString.lowercased() : ViewText.shortID(id)]
        }
        var text = crumbs.joined(separator: context.crumb)
        if !state.activeFilter.isEmpty { text += context.dot + "filter /\(state.activeFilter)" }
        return text
    }

    /// The breadcrumb on the left, the cursor position (and marks) on the right when both fit.
    static func drawBreadcrumb(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        var position = state.rowCount > 0 ? "\(state.cursorRow + 1)/\(state.rowCount)" : ""
        if case .jobs = state.dlqLevel, !state.marked.isEmpty { position = "\(state.marked.count) marked" + context.dot + position }
        var crumbs = " " + breadcrumb(context, fullID: true)
        if DisplayWidth.of(crumbs) >= rect.width { crumbs = " " + breadcrumb(context) }
        let room = rect.width - DisplayWidth.of(crumbs) - 2
        buffer.write(room >= DisplayWidth.of(position) ? position + " " : "", in: rect, alignment: .right, style: .muted)
        buffer.write(crumbs, at: Point(x: rect.x, y: rect.y), style: .title, maxWidth: rect.width)
    }

    static func drawGroups(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let groups = state.visibleGroups
        let total = groups.reduce(0) { $0 + $1.count }
        let area = context.section("Dead-letter groups (\(groups.count))\(context.dot)\(Format.count(total)) jobs", in: rect, into: &buffer)
        if state.dlqGroups.isEmpty {
            context.message(emptyGroupsText(context), in: area, into: &buffer,
                            style: state.snapshot == nil || state.deadLetterTotal > 0 ? .muted : .role(.ok))
            return
        }
        // A group is a queue and a fingerprint: error type plus the message with its variable
        // parts normalised (the PATTERN). A wide terminal (110+ columns) also shows when the
        // group started and the newest sample message; the sample is in every job's row anyway.
        let wide = !context.compact && rect.width >= 110
        var columns = [TableColumn("QUEUE", minWidth: 6, maxWidth: 20), TableColumn("ERROR TYPE", minWidth: 8, maxWidth: 20),
                       TableColumn("JOBS", alignment: .right), TableColumn("TRIAGE", minWidth: 9)]
        if wide { columns.append(TableColumn("FIRST", alignment: .right)) }
        columns += [TableColumn("LAST", alignment: .right), TableColumn("PATTERN", minWidth: 10, flexible: true)]
        if wide { columns.append(TableColumn("SAMPLE", minWidth: 10, maxWidth: 32)) }
        let rows = groups.map { g -> TableRow in
            let mark = triageMark(g.lifecycle)
            var cells = [g.queue, (g.errorType?.isEmpty ?? true) ? "(no type)" : g.errorType!, Format.count(g.count), mark.text]
            if wide { cells.append(context.age(g.firstErrorAt)) }
            cells += [context.age(g.lastErrorAt), ViewText.oneLine(g.pattern)]
            if wide { cells.append(ViewText.oneLine(g.sampleMessage)) }
            return TableRow(cells, cellStyles: [2: .error, 3: mark.style])
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow,
              emptyText: "No group matches /\(state.activeFilter)")
            .draw(into: &buffer, in: area)
    }

    /// Where triage stands on a group, in one short word: REGRESSED (resolved, then failed again),
    /// NEW (failed since this database role last acknowledged it), snoozed, resolved, or seen.
    static func triageMark(_ l: ErrorGroupLifecycle) -> (text: String, style: Style) {
        switch l.state {
        case .regressed: return ("REGRESSED", .error)
        case .resolved: return ("resolved", .ok)
        case .snoozed: return ("snoozed", .muted)
        case .open: return l.isNew ? ("NEW", .warn) : ("seen", .muted)
        }
    }

    /// An empty list means "nothing there" only when the snapshot agrees; otherwise it is still
    /// loading, and saying "empty" would be a lie.
    static func emptyGroupsText(_ context: ScreenContext) -> String {
        let state = context.state
        if state.snapshot == nil { return context.noSnapshotText }
        if state.deadLetterTotal > 0 { return "loading \(ViewText.count(state.deadLetterTotal)) dead-letter jobs\(context.ellipsis)" }
        return "DLQ is empty: no dead-letter jobs in any queue."
    }

    static func drawJobs(_ key: DLQGroupKey, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let jobs = state.visibleJobs
        let area = context.section("\(key.label)\(context.dot)\(jobs.count) jobs", in: rect, into: &buffer)
        if state.dlqJobs.isEmpty {
            let expected = state.dlqGroups.first { $0.queue == key.queue && $0.fingerprint == key.fingerprint }?.count ?? 0
            context.message(expected > 0 ? "loading \(expected) jobs\(context.ellipsis)"
                            : "No jobs left in this group. Esc goes back to the groups.", in: area, into: &buffer)
            return
        }
        var columns = [TableColumn("ID", minWidth: 8), TableColumn("JOB TYPE", minWidth: 8, maxWidth: 24),
                       TableColumn("ATT", alignment: .right)]
        if !context.compact { columns += [TableColumn("AGE", alignment: .right), TableColumn("FAILED", alignment: .right)] }
        columns.append(TableColumn("LAST ERROR", minWidth: 10, flexible: true))
        var marked = Set<Int>()
        let rows = jobs.enumerated().map { index, job -> TableRow in
            if state.marked.contains(job.id) { marked.insert(index) }
            var cells = [ViewText.shortID(job.id), job.jobType, AttemptsText.of(job.attemptCount, max: job.maxAttempts)]
            if !context.compact { cells += [context.age(job.createdAt), context.age(job.lastErrorAt)] }
            cells.append(ViewText.oneLine(job.errorMessage))
            return TableRow(cells)
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow, markedRows: marked,
              emptyText: "No job matches /\(state.activeFilter)", isMarkable: true)
            .draw(into: &buffer, in: area)
    }
}
