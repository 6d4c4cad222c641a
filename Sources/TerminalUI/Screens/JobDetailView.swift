import Foundation
import QueueStore

/// One job, whatever its status: what it is and when things happened to it (a grid of the fields
/// that are set), its error, then one scrolling pane with its payload, result, error details and
/// failed attempts (on a wide terminal, the others beside the payload when they fit whole); a
/// dead job on a full-size terminal has its attempts in a table under the pane instead. The DLQ's job level and `:job` both draw this body; their breadcrumbs (which
/// carry the job's id) differ.
enum JobDetailView {
    /// Returns the scrolling pane's room (nil while loading: nothing scrolls yet).
    static func draw(_ detail: JobDetail?, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport? {
        guard let detail else {
            context.message("loading the job\(context.ellipsis)", in: rect, into: &buffer)
            return nil
        }
        let job = detail.job
        let fields = JobFields(job, context: context)
        let backend = backendLines(detail, width: rect.width - 1)
        let twoColumns = rect.width >= 60
        let gridRows = twoColumns ? max(fields.what.count, fields.when.count) : fields.what.count + fields.when.count
        let errorLines = errorText(job, width: rect.width - 1, maxLines: context.compact ? 1 : 2, ellipsis: context.glyphs.ellipsis)
        // The attempt table is for triage (a dead job's history is the story); any other job
        // lists its attempts at the end of the pane, leaving the room to the result.
        let table = !context.compact && isDead(job) && !detail.attempts.isEmpty
        let attemptRows = table ? min(detail.attempts.count, rect.height >= 36 ? 10 : 3) + 3 : 0
        let parts = Layout.vertical(rect, [.fixed(gridRows), .fixed(backend.count), .fixed(errorLines.count), .atLeast(3), .fixed(attemptRows)])

        drawGrid(fields, twoColumns: twoColumns, into: &buffer, in: parts[0])
        for (i, line) in backend.enumerated() {
            buffer.write(" " + line.text, in: parts[1].row(i), style: line.style)
        }
        for (i, line) in errorLines.enumerated() {
            buffer.write(" " + line, in: parts[2].row(i), style: isDead(job) ? .error : .warn)
        }
        let viewport = drawPane(detail, withAttempts: !table, context: context, into: &buffer, in: parts[3])
        if table { drawAttempts(detail, context: context, into: &buffer, in: parts[4]) }
        return viewport
    }

    /// A running sql-handler job's PostgreSQL backend, the whole width under the grid: its pid
    /// and wait event, the locks it waits for and the backends holding them (JobBackendText), or
    /// why this role cannot see them. Lines, wrapped; warn-styled while it waits for a lock.
    static func backendLines(_ detail: JobDetail, width: Int) -> [(text: String, style: Style)] {
        guard detail.job.status == "processing", let pid = detail.job.handlerBackendPID else { return [] }
        let waiting = !(detail.backend?.waitingFor.isEmpty ?? true)
        let label = "backend  "
        return JobBackendText.lines(pid: pid, detail.backend).flatMap { line in
            TextWrap.wrap(ViewText.oneLine(line), width: max(1, width - label.count))
        }.enumerated().map { i, line in
            ((i == 0 ? label : String(repeating: " ", count: label.count)) + line, waiting ? .warn : .normal)
        }
    }

    /// What the job is on the left, when things happened to it on the right; one column under
    /// the other when the terminal is too narrow for both.
    static func drawGrid(_ fields: JobFields, twoColumns: Bool, into buffer: inout ScreenBuffer, in rect: Rect) {
        let inner = Rect(x: rect.x + 1, y: rect.y, width: max(0, rect.width - 1), height: rect.height)
        guard twoColumns else {
            Pairs(items: fields.what + fields.when).draw(into: &buffer, in: inner)
            return
        }
        let halves = Layout.horizontal(inner, [.flexible, .fixed(2), .flexible])
        Pairs(items: fields.what).draw(into: &buffer, in: halves[0])
        Pairs(items: fields.when).draw(into: &buffer, in: halves[2])
    }

    /// A job that died or is failing: its error is the news. Any other job with an error had a
    /// failed attempt before; its error is history.
    static func isDead(_ job: JobInspection) -> Bool { job.status == "dead_letter" || job.status == "failed" }

    /// "smtp_error: SMTP 421 …" wrapped to `maxLines` ("last error: …" on a job that is not dead);
    /// nothing for a job without an error.
    static func errorText(_ job: JobInspection, width: Int, maxLines: Int, ellipsis: Character) -> [String] {
        let message = [job.errorType, ViewText.oneLine(job.errorMessage)].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        guard !message.isEmpty else { return isDead(job) ? ["(no error message)"] : [] }
        var lines = TextWrap.wrap(isDead(job) ? message : "last error: " + message, width: max(1, width))
        if lines.count > maxLines {
            lines = Array(lines.prefix(maxLines))
            lines[maxLines - 1] = ScreenBuffer.truncate(lines[maxLines - 1] + " " + String(ellipsis), toWidth: width, ellipsis: ellipsis)
        }
        return lines
    }

    /// A titled run of lines after the payload: the result, the error details, the attempts.
    struct Section {
        let name: String
        let lines: [String]
    }

    /// The JSON documents the job has besides its payload: its result, its error details. An
    /// empty details object (a handler that said nothing more) is left out rather than shown as `{}`.
    static func documents(_ job: JobInspection) -> [Section] {
        let details = job.errorDetailsJSON.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "{}" ? nil : $0 }
        return [job.resultJSON.map { Section(name: "result", lines: PrettyJSON.lines($0)) },
                details.map { Section(name: "error details", lines: PrettyJSON.lines($0)) }].compactMap { $0 }
    }

    /// The attempts as lines, for where there is no table: "#2 03:06:00 app-1:4242 smtp_error: …".
    static func attemptLines(_ detail: JobDetail, context: ScreenContext) -> Section? {
        guard !detail.attempts.isEmpty else { return nil }
        return Section(name: "failed attempts", lines: detail.attempts.map { a in
            "#\(a.attempt) \(ViewText.clock(a.failedAt, now: context.now)) \(a.worker ?? "-") "
                + [a.errorType, ViewText.oneLine(a.message)].compactMap { $0 }.joined(separator: ": ")
        })
    }

    /// Sections one after the other, each under its heading (none for a lone one whose box
    /// title already names it).
    static func joined(_ sections: [Section], headed: Bool) -> [String] {
        sections.enumerated().flatMap { i, s in (i > 0 ? [""] : []) + (headed ? [s.name + ":"] : []) + s.lines }
    }

    /// The payload, scrolled by `detailScroll`, with the result, the error details and (when
    /// `withAttempts`) the attempts after it. On a wide terminal the result and error details
    /// go beside it, in a box of their own, when they fit there whole (a box that does not
    /// scroll must never hide lines). Returns how far the pane can scroll in the room it got.
    static func drawPane(_ detail: JobDetail, withAttempts: Bool, context: ScreenContext,
                         into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport {
        let docs = documents(detail.job)
        let besideLines = joined(docs, headed: docs.count > 1)
        let beside = !docs.isEmpty && !context.compact && rect.width >= 110 && besideLines.count <= rect.height - 2
        let columns = Layout.horizontal(rect, beside ? [.flexible(weight: 3), .flexible(weight: 2)] : [.flexible, .fixed(0)])
        if beside {
            let title = listed(docs.map(\.name))
            let area = context.section(title.prefix(1).uppercased() + title.dropFirst(), in: columns[1], into: &buffer, framed: true)
            TextView(lines: besideLines).draw(into: &buffer, in: area)
        }
        let attempts = withAttempts ? attemptLines(detail, context: context) : nil
        let following = (beside ? [] : docs) + [attempts].compactMap { $0 }
        let lines = PrettyJSON.lines(detail.job.payloadJSON) + (following.isEmpty ? [] : [""] + joined(following, headed: true))
        let pane = columns[0]
        let boxed = !context.compact && pane.height >= 4
        let viewRows = max(1, pane.height - (boxed ? 2 : 0))
        let view = TextView(lines: lines, scrollOffset: context.state.detailScroll)
        let title = listed(["Payload"] + following.map(\.name)) + context.dot + view.positionLabel(visibleRows: viewRows)
        let area = context.section(title, in: pane, into: &buffer, framed: boxed)
        view.draw(into: &buffer, in: area)
        // `area` is what TextView clamps against; `viewRows` only labels the title.
        return DetailViewport(maxOffset: TextView.clampedOffset(Int.max, lineCount: lines.count, visibleRows: area.height),
                              visibleRows: area.height)
    }

    /// "Payload", "Payload and result", "Payload, result and error details".
    static func listed(_ names: [String]) -> String {
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " and " + names[names.count - 1]
    }

    static func drawAttempts(_ detail: JobDetail, context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let rowsShown = max(0, rect.height - 3)
        let shown = Array(detail.attempts.suffix(rowsShown))
        let cut = detail.attempts.count > shown.count ? ", last \(shown.count) shown" : ""
        let area = context.section("Failed attempts (\(detail.attempts.count)\(cut))", in: rect, into: &buffer, framed: true)
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

/// The header of a job's detail: the fields that are set, as label–value pairs in two groups.
/// Times are UTC clock times with how long ago (or how soon) they are, so "expired 5m ago" and
/// "runs in 30s" read without arithmetic.
struct JobFields {
    typealias Item = (label: String, value: String, style: Style)
    /// What the job is: queue, type, status, priority, attempts, tenant, dedup key, worker.
    var what: [Item] = []
    /// When: created, run at, started, failed, finished, took, expires, next retry.
    var when: [Item] = []

    init(_ job: JobInspection, context: ScreenContext) {
        func moment(_ date: Date, zone: String = "") -> String {
            let clock = ViewText.clock(date, now: context.now) + zone
            return date > context.now ? "\(clock) (in \(context.countdown(to: date)))" : "\(clock) (\(context.age(date)) ago)"
        }
        func add(_ list: inout [Item], _ label: String, _ value: String?, _ style: Style = .normal) {
            if let value { list.append((label, value, style)) }
        }
        add(&what, "queue", job.queue)
        add(&what, "type", job.jobType)
        let cancelling = job.status == "processing" && job.cancelRequestedAt != nil
        add(&what, "status", job.status + (job.cancelReason.map { " (\($0))" } ?? "") + (cancelling ? " (cancelling)" : ""),
            cancelling ? .warn : Self.statusStyle(job.status))
        add(&what, "priority", String(job.priority))
        add(&what, "attempts", AttemptsText.of(job.attemptCount, max: job.maxAttempts))
        add(&what, "tenant", job.tenant)
        add(&what, "dedup key", job.dedupKey)
        add(&what, "worker", job.lockedBy)

        // The first time says its zone; the ones under it read as the same.
        add(&when, "created", moment(job.createdAt, zone: " UTC"))
        add(&when, "run at", moment(job.runAt))
        add(&when, "started", job.startedAt.map { moment($0) })
        add(&when, "failed", job.lastErrorAt.map { moment($0) })
        add(&when, job.status == "cancelled" ? "cancelled" : "finished", job.completedAt.map { moment($0) })
        add(&when, "took", job.processingMs.map { Format.duration(milliseconds: Double($0)) })
        if let expires = job.expiresAt {
            // "expired" only for a job that was cancelled for it: one that ran in time did not.
            let expired = job.cancelReason == "expired"
            add(&when, expires > context.now ? "expires" : expired ? "expired" : "expiry", moment(expires), expired ? .warn : .normal)
        }
        if job.status == "pending", let retry = job.nextRetryAt { add(&when, "next retry", moment(retry)) }
    }

    static func statusStyle(_ status: String) -> Style {
        switch status {
        case "completed": return .ok
        case "dead_letter", "failed": return .error
        case "cancelled": return .warn
        case "processing": return .accent
        default: return .normal
        }
    }
}
