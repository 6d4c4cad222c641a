import Foundation
import JobFilter
import QueueStore

/// The job explorer: state tabs, the filter line (with the parse error pointing at the bad
/// term while it is typed), then one page of jobs whose columns fit the state: a running job's
/// worker, running time and heartbeat age; a cancelled job's reason; a failing job's error.
enum JobsScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let explorer = context.state.jobs
        let errorRows = explorer.filterError == nil && explorer.priorityError == nil ? 0 : 1
        let parts = Layout.vertical(rect, [.fixed(1), .fixed(1), .fixed(errorRows), .flexible, .fixed(1)])
        drawStateTabs(context, into: &buffer, in: parts[0])
        drawFilterLine(context, into: &buffer, in: parts[1], errorRow: parts[2])
        drawTable(context, into: &buffer, in: parts[3])
        drawScanLine(context, into: &buffer, in: parts[4])
    }

    static func tabTitle(_ state: JobState?) -> String { state?.rawValue ?? "all" }

    static func drawStateTabs(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let explorer = context.state.jobs
        let sort = explorer.sort == .newestFirst ? "newest first" : "oldest first"
        let tabsWidth = JobsExplorer.tabs.reduce(1) { $0 + DisplayWidth.of(tabTitle($1)) + 2 }
        // Right-aligned text fills its row: it goes first, then the tabs over its left part.
        if rect.width - tabsWidth > DisplayWidth.of(sort) + 2 { buffer.write(sort + " ", in: rect, alignment: .right, style: .muted) }
        var x = rect.x + 1
        for tab in JobsExplorer.tabs {
            let title = tabTitle(tab)
            let selected = tab == explorer.stateTab
            let text = selected ? "[\(title)]" : " \(title) "
            guard x + DisplayWidth.of(text) <= rect.x + rect.width else { break }
            buffer.write(text, at: Point(x: x, y: rect.y), style: selected ? .title : .muted)
            x += DisplayWidth.of(text)
        }
    }

    static func drawFilterLine(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect, errorRow: Rect) {
        let explorer = context.state.jobs
        if let typed = explorer.priorityPrompt {
            drawPriorityPrompt(typed, context, into: &buffer, in: rect, errorRow: errorRow)
            return
        }
        if let editing = explorer.editing {
            buffer.write(" / " + ViewText.oneLine(editing) + "_", at: Point(x: rect.x, y: rect.y), style: .accent, maxWidth: rect.width)
            if let error = explorer.filterError, !errorRow.isEmpty {
                // A caret under the column the error names, then the message.
                let caretX = min(rect.x + 3 + max(0, error.column - 1), rect.x + rect.width - 1)
                buffer.write("^", at: Point(x: caretX, y: errorRow.y), style: .error)
                let message = ViewText.oneLine(error.description)
                let afterCaret = caretX + 2
                if afterCaret + DisplayWidth.of(message) <= errorRow.x + errorRow.width {
                    buffer.write(message, at: Point(x: afterCaret, y: errorRow.y), style: .error)
                } else {
                    buffer.write(" " + message, at: Point(x: errorRow.x, y: errorRow.y), style: .error,
                                 maxWidth: max(0, caretX - errorRow.x - 1))
                }
            }
            return
        }
        let filter = explorer.filter.isEmpty ? "(no filter: / to search, Tab completes)" : ViewText.oneLine(explorer.filter.description)
        var count = explorer.count.map { countText($0, ascii: context.glyphs.isASCII) } ?? "counting\(context.ellipsis)"
        if !context.state.marked.isEmpty { count = "\(context.state.marked.count) marked" + context.dot + count }
        buffer.write(count + " ", in: rect, alignment: .right, style: .muted)
        let room = rect.width - DisplayWidth.of(count) - 3
        buffer.write(" / " + filter, at: Point(x: rect.x, y: rect.y), style: explorer.filter.isEmpty ? .muted : .accent, maxWidth: max(0, room))
    }

    /// `p`: "new priority for the 3 marked jobs (higher runs first): 5_", and under it why what
    /// was typed is not a priority.
    static func drawPriorityPrompt(_ typed: String, _ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect,
                                   errorRow: Rect) {
        let marked = context.state.marked.count
        let whom = marked > 0 ? (marked == 1 ? "the marked job" : "the \(marked) marked jobs")
            : "every pending, scheduled, retrying job that matches"
        buffer.write(" new priority for \(whom) (higher runs first; Esc cancels): " + ViewText.oneLine(typed) + "_",
                     at: Point(x: rect.x, y: rect.y), style: .accent, maxWidth: rect.width)
        if let error = context.state.jobs.priorityError, !errorRow.isEmpty {
            buffer.write(" " + ViewText.oneLine(error), at: Point(x: errorRow.x, y: errorRow.y), style: .error, maxWidth: errorRow.width)
        }
    }

    /// "1 job", "412 jobs", "≥ 10,000 jobs" (">= 10,000" on an ASCII terminal).
    static func countText(_ count: JobCount, ascii: Bool) -> String {
        let noun = count.value == 1 && count.exact ? " job" : " jobs"
        guard !count.exact else { return count.description + noun }
        return (ascii ? ">= " : "≥ ") + String(count.description.drop { $0 != " " }.dropFirst()) + noun
    }

    static func drawTable(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let explorer = state.jobs
        guard let page = explorer.page else {
            context.message(state.snapshot == nil ? context.noSnapshotText : "searching\(context.ellipsis)", in: rect, into: &buffer)
            return
        }
        let tab = explorer.stateTab
        var columns = [TableColumn("ID", minWidth: 8), TableColumn("QUEUE", minWidth: 5, maxWidth: 20),
                       TableColumn("TYPE", minWidth: 6, maxWidth: 24)]
        if tab == nil { columns.append(TableColumn("STATE", minWidth: 7)) }
        columns.append(TableColumn("AGE", alignment: .right))
        switch tab {
        case .running:
            columns += [TableColumn("WORKER", minWidth: 6, flexible: true), TableColumn("RUNNING", alignment: .right),
                        TableColumn("HEARTBEAT", alignment: .right)]
        case .cancelled:
            columns += [TableColumn("REASON", minWidth: 8), TableColumn("TENANT", minWidth: 6, flexible: true)]
        case .scheduled:
            columns += [TableColumn("RUNS IN", alignment: .right), TableColumn("TENANT", minWidth: 6, flexible: true)]
        case .retrying, .dead:
            columns += [TableColumn("ATT", alignment: .right), TableColumn("LAST ERROR", minWidth: 10, flexible: true)]
        default:
            if !context.compact { columns.append(TableColumn("PRI", alignment: .right)) }
            columns.append(TableColumn("TENANT", minWidth: 6, flexible: true))
        }
        var marked = Set<Int>()
        let rows = page.jobs.enumerated().map { index, job -> TableRow in
            if state.marked.contains(job.id) { marked.insert(index) }
            var cells = [ViewText.shortID(job.id), ViewText.oneLine(job.queue), ViewText.oneLine(job.jobType)]
            if tab == nil { cells.append(job.state.rawValue) }
            cells.append(context.age(job.createdAt))
            switch tab {
            case .running:
                cells += [ViewText.oneLine(job.lockedBy ?? "-"), context.age(job.startedAt), context.age(job.heartbeatAt)]
            case .cancelled:
                cells += [job.cancelReason ?? "-", ViewText.oneLine(job.tenant ?? "-")]
            case .scheduled:
                cells += [context.countdown(to: job.runAt), ViewText.oneLine(job.tenant ?? "-")]
            case .retrying, .dead:
                cells += [AttemptsText.of(job.attemptCount, max: job.maxAttempts), ViewText.oneLine(job.errorMessage)]
            default:
                if !context.compact { cells.append("\(job.priority)") }
                cells.append(ViewText.oneLine(job.tenant ?? "-"))
            }
            return TableRow(cells)
        }
        let pageNumber = explorer.pageStarts.count
        let title = "Jobs\(tab.map { " " + $0.rawValue } ?? "")\(context.dot)page \(pageNumber)\(context.dot)\(rows.count) shown"
        let area = context.section(title, in: rect, into: &buffer)
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow, markedRows: marked,
              emptyText: emptyText(explorer), isMarkable: true)
            .draw(into: &buffer, in: area)
    }

    static func emptyText(_ explorer: JobsExplorer) -> String {
        let state = tabTitle(explorer.stateTab)
        if explorer.page?.window?.truncated == true { return "No match in this window; n searches further back." }
        return explorer.filter.isEmpty ? "No \(state) jobs." : "No \(state) jobs match \(ViewText.oneLine(explorer.filter.description))."
    }

    /// What a payload search read, and how to page on.
    static func drawScanLine(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let explorer = context.state.jobs
        guard let page = explorer.page else { return }
        var parts: [String] = []
        if let scan = page.window { parts.append(ViewText.oneLine(scan.describe(sort: explorer.sort, queue: explorer.filter.queue))) }
        else if page.next != nil { parts.append("n next page") }
        if explorer.pageStarts.count > 1 { parts.append("N previous page") }
        // Not repeated by the refresh interval (a window search, or a slow one): say how to.
        if !explorer.refreshesByItself { parts.append("^R searches again") }
        buffer.write(" " + parts.joined(separator: context.dot), at: Point(x: rect.x, y: rect.y), style: .muted, maxWidth: rect.width)
    }
}
