import Foundation
import QueueStore

/// The rows every screen shares: the tab line at the top, the connection banner under it, and
/// the footer (status, flash message, key hints) or the line being typed at the bottom.
enum Chrome {
    static func drawTabs(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        var trailing = state.readOnly ? "READ-ONLY" : ""
        // A context reading from its replica acts on its primary: the label says "replica lag",
        // not STANDBY, which means nothing can be done here.
        if state.standby != nil && !readsFromReplica(state) { trailing = "STANDBY " + trailing }
        if state.isStale { trailing = trailing.isEmpty ? "STALE" : "STALE " + trailing }
        // The context is always in the header: an action goes to exactly this database.
        if let label = contextLabel(state) { trailing = trailing.isEmpty ? label : label + " " + trailing }
        Tabs(titles: Screen.allCases.map(\.title), shortTitles: Screen.allCases.map(\.shortTitle), keys: Screen.allCases.map(\.key),
             selected: Screen.allCases.firstIndex(of: state.screen) ?? 0, trailing: trailing)
            .draw(into: &buffer, in: rect)
    }

    /// "ctx eu-1", "ctx eu-1 > us-1" while switching, "ALL" over the all view; nil without contexts.
    static func contextLabel(_ state: DashboardState) -> String? {
        if state.contexts.allView && state.screen == .overview { return "ALL CONTEXTS" }
        guard let current = state.contexts.current ?? (state.contexts.entries.isEmpty ? nil : "(--db)") else { return nil }
        var label = "ctx " + ViewText.oneLine(current)
        if readsFromReplica(state), let standby = state.standby {
            label += " replica " + (standby.lagSeconds.map { "lag " + Format.age(seconds: Format.clampedInt($0.rounded(.down))) }
                                    ?? standby.replayState.replacingOccurrences(of: "_", with: " "))
        }
        return label + (state.contexts.switching.map { " > " + ViewText.oneLine($0) + "..." } ?? "")
    }

    /// The current context has a replica and a primary: reads there, actions here.
    static func readsFromReplica(_ state: DashboardState) -> Bool {
        state.contexts.entries.first { $0.name == state.contexts.current }.map { $0.readsFromReplica && !$0.readOnly } ?? false
    }

    /// The banner for the connection, or nil while connected. "connecting…" until the first
    /// snapshot; after a failure, when the next try is and that what is shown is stale.
    static func connectionBanner(_ context: ScreenContext) -> Banner? {
        let state = context.state
        switch state.connection {
        case .connected:
            return nil
        case .connecting:
            return Banner("connecting to the database\(context.ellipsis)", level: .info)
        case .disconnected(let reason, _):
            let seconds = state.secondsUntilRetry ?? 0
            let retry = seconds == 0 ? "retrying now" : "retrying in \(seconds)s"
            var text = "disconnected \(context.dash) \(retry)"
            if let refreshed = state.snapshot?.generatedAt {
                text += context.dot + "data is stale, from \(context.age(refreshed)) ago"
            }
            return Banner(text + context.dot + ViewText.oneLine(reason), level: .error)
        }
    }

    /// The footer. On one row: the `:` or `/` line while one is typed, otherwise hints (or the
    /// flash message) on the left and the status on the right. With two rows (full layout), the
    /// status gets the upper row to itself, read left to right; the lower row has the hints, the
    /// flash or the line being typed.
    static func drawFooter(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let bottom = rect.row(rect.height - 1)
        if rect.height >= 2 {
            if drawLongFlash(context, into: &buffer, in: rect) { return }
            let top = rect.row(0)
            buffer.fill(top)
            buffer.write(" " + statusText(context), at: Point(x: top.x, y: top.y), style: statusStyle(context.state),
                         maxWidth: top.width)
            if !drawPrompt(context, into: &buffer, in: bottom) {
                drawHintsOrFlash(context, status: "", into: &buffer, in: bottom)
            }
            return
        }
        if !drawPrompt(context, into: &buffer, in: bottom) {
            drawHintsOrFlash(context, status: statusText(context), into: &buffer, in: bottom)
        }
    }

    /// A flash wider than the row gets both footer rows for its few seconds, so what it says to
    /// do is not cut: at 80 columns "'123' is not a job id (a UUID such as …, or 4 or more of its
    /// hex digits…)" lost the part that says what an id looks like. The status returns with the
    /// hints. Returns false (drawing nothing) when the flash fits one row or a line is typed.
    static func drawLongFlash(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> Bool {
        let state = context.state
        guard let flash = state.flash, state.commandLine == nil, !state.filterEditing else { return false }
        let text = (flash.kind == .error ? "! " : "") + ViewText.oneLine(flash.text)
        guard DisplayWidth.of(text) > rect.width else { return false }
        let style: Style = flash.kind == .error ? .error : flash.kind == .success ? .role(.ok, .bold) : .accent
        let lines = TextWrap.wrap(text, width: rect.width)
        let shown = min(lines.count, rect.height)
        for i in 0..<shown {
            var line = lines[i]
            // More than fits: the last row ends with an ellipsis instead of stopping mid-word.
            if i == shown - 1 && lines.count > shown { line = lines[i...].joined(separator: " ") }
            buffer.fill(rect.row(i))
            _ = buffer.write(line, at: Point(x: rect.x, y: rect.y + i), style: style, maxWidth: rect.width)
        }
        return true
    }

    /// The `:` command or `/` filter being typed, if any; true when it drew one.
    static func drawPrompt(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> Bool {
        let state = context.state
        if let command = state.commandLine {
            PromptLine(prompt: ":", text: command,
                       placeholder: "job ID, dlq, queue NAME, pause NAME, leads, workers, audit, q  (Esc cancels)")
                .draw(into: &buffer, in: rect)
            return true
        }
        if state.filterEditing {
            PromptLine(prompt: "/", text: state.activeFilter,
                       placeholder: "filter \(KeyMap.listNoun(state)) (Enter keeps, Esc clears)")
                .draw(into: &buffer, in: rect)
            return true
        }
        return false
    }

    /// Key hints, or for its few seconds the flash message that answers what the operator just
    /// did; `status` (possibly empty) on the right.
    static func drawHintsOrFlash(_ context: ScreenContext, status: String, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        let text: String
        let style: Style
        if let flash = state.flash {
            // The flash outranks the status here: it is the answer to what the operator just did,
            // and the status is back in a few seconds. It gets up to two thirds of the row.
            text = (flash.kind == .error ? "! " : "") + ViewText.oneLine(flash.text)
            style = flash.kind == .error ? .error : flash.kind == .success ? .role(.ok, .bold) : .accent
        } else if let bulk = state.bulk {
            // A bulk action running beside the screen: its progress instead of the hints, on every
            // screen, until it ends.
            text = bulkProgressText(bulk, context)
            style = .warn
        } else {
            StatusLine(hints: KeyMap.footerHints(state), status: status, statusStyle: statusStyle(state))
                .draw(into: &buffer, in: rect)
            return
        }
        let flashWidth = min(DisplayWidth.of(text), rect.width * 2 / 3)
        let statusRoom = max(0, rect.width - flashWidth - 2)
        let shortStatus = statusRoom > 0 ? ScreenBuffer.truncate(status, toWidth: statusRoom, ellipsis: buffer.glyphs.ellipsis) : ""
        StatusLine(hints: [], status: shortStatus, statusStyle: statusStyle(state)).draw(into: &buffer, in: rect)
        let statusWidth = DisplayWidth.of(shortStatus)
        let room = rect.width - statusWidth - (statusWidth > 0 ? 2 : 0)
        buffer.write(text, at: Point(x: rect.x, y: rect.y), style: style, maxWidth: room)
    }

    /// "cancelling 41,000 / 100,000 · 8.2k/s · 5s — Esc stops after this batch".
    static func bulkProgressText(_ bulk: BulkRun, _ context: ScreenContext) -> String {
        let elapsed = context.state.now.timeIntervalSince(bulk.startedAt)
        let line = bulk.progress.line(dot: context.dot, elapsed: elapsed)
        return line + " \(context.dash) " + (bulk.stopping ? "stopping after this batch\(context.ellipsis)" : "Esc stops after this batch")
    }

    /// "4 workers · 44 in flight · connected · 3s ago · every 2s", most urgent first, so when
    /// the row is short the end is what gets cut.
    static func statusText(_ context: ScreenContext) -> String {
        let state = context.state
        var parts: [String] = []
        // First: the operator must not miss that the embedded workers are not running, nor why.
        if let failure = state.poolStartupError { parts.append("WORKERS NOT STARTED: " + ViewText.oneLine(failure)) }
        if state.readOnly { parts.append("READ-ONLY") }
        // Before the counts: on a standby how old the data is matters more than what it says.
        if let standby = state.standby { parts.append(StandbyText.line(standby)) }
        if state.contexts.allView && state.screen == .overview {
            parts += allViewCounts(state)
        } else if state.snapshot != nil {
            let workers = state.liveWorkerCount
            parts.append(workers == 1 ? "1 worker" : "\(workers) workers")
            parts.append("\(ViewText.count(state.inFlightCount)) in flight")
        }
        switch state.connection {
        case .connected: parts.append(context.compact ? "ok" : "connected")
        case .connecting: parts.append("connecting")
        case .disconnected: parts.append("DISCONNECTED")
        }
        // Notifications do not arrive (a transaction pooler): changes show at the next poll. A
        // standby never has them, and "standby" already says so.
        if state.notificationsLost && state.standby == nil { parts.append("no LISTEN") }
        if let seconds = state.secondsSinceRefresh {
            parts.append("\(Format.age(seconds: seconds)) ago")
        }
        parts.append(state.refreshPaused ? "refresh paused" : "every \(state.refreshIntervalText)")
        return parts.joined(separator: context.dot)
    }

    /// The all view's counts: jobs in flight summed over the contexts the view adds up (the
    /// same ones as its TOTAL line), and the worker count, which only the current context's
    /// snapshot has, named as that context's so it is not read as the estate's.
    static func allViewCounts(_ state: DashboardState) -> [String] {
        let fresh = state.freshContextSummaries
        let inFlight = HealthSum.totals(fresh).processing
        let contexts = state.contexts.entries.count
        var parts = ["\(ViewText.count(inFlight)) in flight in \(fresh.count) of \(contexts) contexts"]
        if state.snapshot != nil, let current = state.contexts.current {
            let workers = state.liveWorkerCount
            parts.append((workers == 1 ? "1 worker" : "\(workers) workers") + " in " + ViewText.oneLine(current))
        }
        return parts
    }

    static func statusStyle(_ state: DashboardState) -> Style {
        if case .disconnected = state.connection { return .error }
        if state.poolStartupError != nil { return .error }
        return state.readOnly || state.refreshPaused ? .warn : .normal
    }
}
