import Foundation
import QueueStore

/// DLQ triage in three levels: groups (queue × error type) → the jobs of a group → one job.
/// A breadcrumb on the first row says where the operator is: "DLQ › emails / smtp_error › 0193ab12".
enum DLQScreen {
    /// Returns the payload pane's room when one job is open (see `DashboardView.draw`).
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport? {
        let state = context.state
        let parts = Layout.vertical(rect, [.fixed(1), .flexible])
        drawBreadcrumb(context, into: &buffer, in: parts[0])
        switch state.dlqLevel {
        case .groups: drawGroups(context, into: &buffer, in: parts[1])
        case .jobs(let key): drawJobs(key, context: context, into: &buffer, in: parts[1])
        case .job: return JobDetailView.draw(context, into: &buffer, in: parts[1])
        }
        return nil
    }

    static func breadcrumb(_ context: ScreenContext) -> String {
        let state = context.state
        var crumbs = ["DLQ"]
        switch state.dlqLevel {
        case .groups: break
        case .jobs(let key): crumbs.append(key.label)
        case .job(let key, let id): crumbs += [key.label, ViewText.shortID(id)]
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
        let crumbs = " " + breadcrumb(context)
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
        var columns = [TableColumn("QUEUE", minWidth: 6), TableColumn("ERROR TYPE", minWidth: 8),
                       TableColumn("JOBS", alignment: .right)]
        if !context.compact { columns.append(TableColumn("FIRST", alignment: .right)) }
        columns += [TableColumn("LAST", alignment: .right), TableColumn("SAMPLE MESSAGE", minWidth: 10, flexible: true)]
        let rows = groups.map { g -> TableRow in
            var cells = [g.queue, g.errorType ?? "(no type)", Format.count(g.count)]
            if !context.compact { cells.append(context.age(g.firstErrorAt)) }
            cells += [context.age(g.lastErrorAt), ViewText.oneLine(g.sampleMessage)]
            return TableRow(cells, cellStyles: [2: .error])
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow,
              emptyText: "No group matches /\(state.activeFilter)")
            .draw(into: &buffer, in: area)
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
            let expected = state.dlqGroups.first { $0.queue == key.queue && $0.errorType == key.errorType }?.count ?? 0
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
            var cells = [ViewText.shortID(job.id), job.jobType, "\(job.attemptCount)/\(job.maxAttempts)"]
            if !context.compact { cells += [context.age(job.createdAt), context.age(job.lastErrorAt)] }
            cells.append(ViewText.oneLine(job.errorMessage))
            return TableRow(cells)
        }
        Table(columns: columns, rows: rows, selectedIndex: rows.isEmpty ? nil : state.cursorRow, markedRows: marked,
              emptyText: "No job matches /\(state.activeFilter)", isMarkable: true)
            .draw(into: &buffer, in: area)
    }
}

/// One dead-letter job: what it was, why it failed, its payload (scrollable) and every attempt.
enum JobDetailView {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport? {
        let state = context.state
        guard let detail = state.jobDetail, case .job(_, let id) = state.dlqLevel, detail.job.id == id else {
            context.message("loading the job\(context.ellipsis)", in: rect, into: &buffer)
            return nil
        }
        let job = detail.job
        let errorLines = errorText(job, width: rect.width - 1, maxLines: context.compact ? 1 : 2, ellipsis: context.glyphs.ellipsis)
        let attemptRows = context.compact ? 0 : min(detail.attempts.count, rect.height >= 36 ? 10 : 3) + 3
        let parts = Layout.vertical(rect, [.fixed(context.compact ? 1 : 2), .fixed(errorLines.count), .atLeast(3), .fixed(attemptRows)])

        let dot = context.dot
        let summary = ["id \(context.compact ? ViewText.shortID(job.id) : job.id.uuidString.lowercased())",
                       job.jobType, "attempts \(job.attemptCount)/\(job.maxAttempts)"].joined(separator: dot)
        buffer.write(" " + summary, in: parts[0].row(0))
        if parts[0].height > 1 {
            var when = "created \(context.age(job.createdAt)) ago"
            if let failed = job.lastErrorAt {
                when += dot + "failed \(context.age(failed)) ago (\(ViewText.clock(failed, now: state.now)) UTC)"
            }
            buffer.write(" " + when, in: parts[0].row(1), style: .muted)
        }
        for (i, line) in errorLines.enumerated() {
            buffer.write(" " + line, in: parts[1].row(i), style: .error)
        }

        let wide = !context.compact && rect.width >= 110 && detail.errorDetailsJSON != nil
        let middle = Layout.horizontal(parts[2], wide ? [.flexible(weight: 3), .flexible(weight: 2)] : [.flexible, .fixed(0)])
        let viewport = drawPayload(detail, withDetails: !wide, withAttempts: attemptRows == 0, context: context,
                                   into: &buffer, in: middle[0])
        if wide, let details = detail.errorDetailsJSON {
            let area = context.section("Error details", in: middle[1], into: &buffer)
            TextView(lines: PrettyJSON.lines(details)).draw(into: &buffer, in: area)
        }
        if attemptRows > 0 { drawAttempts(detail, context: context, into: &buffer, in: parts[3]) }
        return viewport
    }

    /// "smtp_error: SMTP 421 …" wrapped to `maxLines`, then the details on one line when they
    /// have no box of their own.
    static func errorText(_ job: DLQJob, width: Int, maxLines: Int, ellipsis: Character) -> [String] {
        let message = [job.errorType, ViewText.oneLine(job.errorMessage)].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        var lines = TextWrap.wrap(message.isEmpty ? "(no error message)" : message, width: max(1, width))
        if lines.count > maxLines {
            lines = Array(lines.prefix(maxLines))
            lines[maxLines - 1] = ScreenBuffer.truncate(lines[maxLines - 1] + " " + String(ellipsis), toWidth: width, ellipsis: ellipsis)
        }
        return lines
    }

    /// The payload, scrollable by `detailScroll`. Without a box of their own (narrow screens),
    /// the error details follow it under a heading, so they are one scroll away, never missing.
    /// On a compact screen the attempt history has no table either; it follows the same way.
    /// Returns how far the payload can scroll in the room it got.
    static func drawPayload(_ detail: JobDetail, withDetails: Bool, withAttempts: Bool, context: ScreenContext,
                            into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport {
        var lines = PrettyJSON.lines(detail.payloadJSON)
        if withDetails, let details = detail.errorDetailsJSON {
            lines += ["", "error details:"] + PrettyJSON.lines(details)
        }
        if withAttempts {
            lines += ["", "attempts:"] + detail.attempts.map { a in
                "#\(a.attempt) \(ViewText.clock(a.failedAt, now: context.now)) \(a.worker ?? "-") "
                    + [a.errorType, ViewText.oneLine(a.message)].compactMap { $0 }.joined(separator: ": ")
            }
        }
        let boxed = !context.compact && rect.height >= 4
        let viewRows = max(1, rect.height - (boxed ? 2 : 0))
        let view = TextView(lines: lines, scrollOffset: context.state.detailScroll)
        let title = "Payload\(context.dot)\(view.positionLabel(visibleRows: viewRows))"
        let area = context.section(title, in: rect, into: &buffer, framed: boxed)
        view.draw(into: &buffer, in: area)
        // `area` is what TextView clamps against; `viewRows` only labels the title.
        return DetailViewport(maxOffset: TextView.clampedOffset(Int.max, lineCount: lines.count, visibleRows: area.height),
                              visibleRows: area.height)
    }

    static func drawAttempts(_ detail: JobDetail, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let rowsShown = max(0, rect.height - 3)
        let shown = Array(detail.attempts.suffix(rowsShown))
        let cut = detail.attempts.count > shown.count ? ", last \(shown.count) shown" : ""
        let area = context.section("Attempts (\(detail.attempts.count)\(cut))", in: rect, into: &buffer, framed: true)
        Table(columns: [TableColumn("#", alignment: .right), TableColumn("FAILED AT", alignment: .right),
                        TableColumn("AGO", alignment: .right), TableColumn("WORKER", minWidth: 6, maxWidth: 24),
                        TableColumn("ERROR TYPE", minWidth: 6, maxWidth: 20), TableColumn("MESSAGE", minWidth: 10, flexible: true)],
              rows: shown.map { a in
                  TableRow(["\(a.attempt)", ViewText.clock(a.failedAt, now: context.now), context.age(a.failedAt),
                            a.worker ?? "-", a.errorType ?? "-", ViewText.oneLine(a.message)])
              },
              emptyText: "no attempts recorded")
            .draw(into: &buffer, in: area)
    }
}
