import Foundation
import QueueStore

/// `?`: the keys of the current screen, in a centred box over it. When the terminal is too short
/// for all of it (80x24 cannot show the `:` commands under the keys), j k PgUp PgDn g G scroll
/// it and the last row says where you are; any other key closes it.
enum HelpOverlay {
    /// Draws help from `state.helpScroll` and returns its scrolling room (nil when it all fits).
    @discardableResult
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in screen: Rect) -> DetailViewport? {
        let sections = KeyMap.sections(context.state, ascii: context.glyphs.isASCII)
        let keyWidth = sections.flatMap(\.entries).map { DisplayWidth.of($0.keys) }.max() ?? 0
        let width = min(screen.width, 76)
        let textWidth = max(1, width - 4 - keyWidth - 2)
        var lines: [(key: String, text: String, isHeading: Bool)] = []
        for section in sections {
            if !lines.isEmpty { lines.append(("", "", false)) }
            lines.append((section.title, "", true))
            for entry in section.entries {
                for (i, piece) in TextWrap.wrap(entry.does, width: textWidth).enumerated() {
                    lines.append((i == 0 ? entry.keys : "", piece, false))
                }
            }
        }
        let box = screen.centered(width: width, height: min(screen.height, lines.count + 2))
        // When the screen is short the last row says which lines show, and the rest scroll.
        let innerHeight = max(0, box.height - 2)
        let scrolls = lines.count > innerHeight
        let rows = scrolls ? max(0, innerHeight - 1) : innerHeight
        let maxOffset = max(0, lines.count - rows)
        let offset = scrolls ? min(max(0, context.state.helpScroll), maxOffset) : 0
        let closes = scrolls ? "j k scroll, any other key closes" : "any key closes"
        let title = "Help" + context.dot + screenName(context.state) + context.dot + closes
        buffer.fill(box)
        let inner = Box(title: title, borderStyle: .role(.accent), titleStyle: .title).draw(into: &buffer, in: box)
            .inset(dx: 1, dy: 0)
        guard !inner.isEmpty else { return nil }
        for (i, line) in lines.dropFirst(offset).prefix(rows).enumerated() {
            let y = inner.y + i
            if line.isHeading {
                buffer.write(line.key, at: Point(x: inner.x, y: y), style: .title, maxWidth: inner.width)
                continue
            }
            buffer.write(line.key, at: Point(x: inner.x, y: y), style: .role(.accent, .bold), maxWidth: keyWidth)
            buffer.write(line.text, at: Point(x: inner.x + keyWidth + 2, y: y), maxWidth: max(0, inner.width - keyWidth - 2))
        }
        guard scrolls else { return nil }
        let more = offset < maxOffset ? "more below: j or PgDn" : "the end: k or PgUp goes back"
        buffer.write("lines \(offset + 1)-\(offset + rows) of \(lines.count)\(context.dot)\(more)", in: inner.row(inner.height - 1),
                     alignment: .right, style: .muted)
        return DetailViewport(maxOffset: maxOffset, visibleRows: max(1, rows))
    }

    static func screenName(_ state: DashboardState) -> String {
        state.openedJob != nil ? "Job detail" : KeyMap.placeName(state)
    }
}

/// The question before a bulk or destructive action. It shows `Confirmation.prompt` verbatim;
/// while the exact count is still being fetched it says so, and `y` is not offered.
enum ConfirmationDialog {
    static func draw(_ confirmation: Confirmation, _ context: ScreenContext, into buffer: inout ScreenBuffer, in fullScreen: Rect) {
        // Two columns clear of each edge where there is room: a dialog as wide as the terminal
        // (a sample line cut at its width made it so at 80x24) laid its border over the
        // screen frame's, one column out on the right. Inset on both sides, it stays centred.
        let screen = fullScreen.width >= 40 ? fullScreen.inset(dx: 2, dy: 0) : fullScreen
        var body = [confirmation.prompt]
        // On a tiny terminal "[y] yes  [n] no" still fits whole; how to answer must never be cut.
        let narrow = screen.width < 40
        let no = DialogButton(key: "n", label: narrow ? "no" : "cancel")
        let buttons: [DialogButton]
        if confirmation.count == nil {
            body += ["", "Target: \(target(confirmation.action))",
                     "y is not accepted until the exact count is shown."]
            buttons = [no]
        } else {
            buttons = [DialogButton(key: "y", label: narrow ? "yes" : "confirm"), no]
            // One row per job, cut at the dialog's width rather than wrapped: five jobs, five rows.
            body += sampleLines(confirmation, context).map {
                ScreenBuffer.truncate($0, toWidth: max(1, min(100, screen.width - 4)), ellipsis: buffer.glyphs.ellipsis)
            }
        }
        // Wide enough that the question stays on one line where the terminal allows: the
        // operator (and the end-to-end test) reads it whole.
        let dialog = Dialog(title: title(confirmation.action), body: body, buttons: buttons,
                            style: isDestructive(confirmation.action) ? .error : .warn, maxWidth: 100)
        // A blank column either side, so the text under it does not run up against its border.
        let box = dialog.frame(in: screen)
        if screen != fullScreen { buffer.fill(Rect(x: box.x - 1, y: box.y, width: box.width + 2, height: box.height).intersection(fullScreen)) }
        dialog.draw(into: &buffer, in: screen)
    }

    /// Up to 5 of the very jobs the action would touch (a DLQ requeue's, a Jobs-screen bulk
    /// action's), so the operator sees what the group or filter caught: short id, state, queue,
    /// type, age, and the last error of a failed one.
    static func sampleLines(_ confirmation: Confirmation, _ context: ScreenContext) -> [String] {
        guard !confirmation.sample.isEmpty, let count = confirmation.count else { return [] }
        let more = count > confirmation.sample.count ? " (of \(ViewText.grouped(Int64(count))))" : ""
        return ["", "Sample\(more):"] + confirmation.sample.prefix(5).map { job in
            var line = "  \(ViewText.shortID(job.id))  \(job.state.rawValue)  \(ViewText.oneLine(job.queue))"
                + "  \(ViewText.oneLine(job.jobType))  \(context.age(job.createdAt))"
            if let error = job.errorMessage, job.state == .dead || job.state == .retrying { line += "  " + ViewText.oneLine(error) }
            return line
        }
    }

    static func title(_ action: OperatorAction) -> String {
        switch action {
        case .requeueGroup, .requeueJobs: return "Requeue"
        case .deleteGroup, .deleteJobs: return "Delete"
        case .cancelMigration: return "Cancel migration"
        case .pause: return "Pause"
        case .resume: return "Resume"
        case .setConcurrency: return "Scale"
        case .trigger: return "Trigger"
        case .setScheduleEnabled(_, let enabled): return enabled ? "Enable schedule" : "Disable schedule"
        case .runSchedule: return "Run schedule"
        case .commandWorker(let kind, _, _):
            switch kind {
            case .quiet: return "Quiet worker"
            case .resume: return "Resume worker"
            case .drain: return "Drain worker"
            }
        case .cancelRunningJob: return "Cancel job"
        case .triageGroup(let step, _): return step.verb.capitalized
        case .undoRequeue: return "Undo requeue"
        case .jobsByFilter(let kind, _, _, _), .jobsByID(let kind, _, _, _, _):
            return kind == .priority ? "Change priority" : kind.verb.prefix(1).uppercased() + kind.verb.dropFirst()
        }
    }

    /// What the action will touch, said while the count is not known yet.
    static func target(_ action: OperatorAction) -> String {
        switch action {
        case .requeueGroup(let key, let reset, _): return key.label + (reset ? " (attempts reset)" : "")
        case .deleteGroup(let key, _): return key.label
        case .requeueJobs(let ids, _), .deleteJobs(let ids): return ids.count == 1 ? "1 job" : "\(ids.count) jobs"
        case .cancelMigration(_, let name): return name
        case .pause(let q), .resume(let q), .setConcurrency(let q, _), .trigger(let q): return q
        case .setScheduleEnabled(let name, _), .runSchedule(let name, _, _): return name
        case .commandWorker(_, _, let label), .cancelRunningJob(_, let label): return label

        case .triageGroup(_, let key): return key.label
        case .undoRequeue(let auditID): return "audit row #\(auditID)"
        case .jobsByFilter(_, let filter, _, _): return filter.isEmpty ? "every job" : ViewText.oneLine(filter.description)
        case .jobsByID(_, let ids, _, _, _): return ids.count == 1 ? "1 marked job" : "\(ids.count) marked jobs"
        }
    }

    static func isDestructive(_ action: OperatorAction) -> Bool {
        switch action {
        case .deleteGroup, .deleteJobs, .cancelMigration, .cancelRunningJob: return true
        case .jobsByFilter(let kind, _, _, _), .jobsByID(let kind, _, _, _, _): return kind == .delete || kind == .cancel
        default: return false
        }
    }
}
