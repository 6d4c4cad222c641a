/// The dashboard's one entry point for drawing: a pure function of the state.
///
/// The runtime sizes `buffer` to the terminal (with the terminal's glyphs) and hands it to
/// `Terminal.present`; snapshot tests call the same function at fixed sizes.
///
/// Returns the room a job detail's scrolling pane got (nil when none is on screen): only the
/// layout knows it, and the reducer needs it to keep `detailScroll` within what can be shown, so
/// the runtime feeds it back as `.detailViewportMeasured` whenever it changes.
///
/// Rows, top to bottom: tabs, the connection banner (only when not connected), the screen, and
/// the footer (or the `:`/`/` line being typed). Overlays (help, confirmation) go on top.
public enum DashboardView {
    @discardableResult
    public static func draw(_ state: DashboardState, into buffer: inout ScreenBuffer) -> DetailViewport? {
        buffer.clear()
        let size = Layout.sizeClass(width: buffer.width, height: buffer.height)
        guard size != .tooSmall else {
            TooSmallScreen.draw(into: &buffer)
            return nil
        }
        let context = ScreenContext(state: state, size: size, glyphs: buffer.glyphs)
        let banner = Chrome.connectionBanner(context)
        // The full layout gives key hints a row of their own; a compact one cannot spare it.
        let footerRows = size == .regular ? 2 : 1
        let rows = Layout.vertical(buffer.bounds, [.fixed(1), .fixed(banner == nil ? 0 : 1), .flexible, .fixed(footerRows)])
        Chrome.drawTabs(context, into: &buffer, in: rows[0])
        banner?.draw(into: &buffer, in: rows[1])
        var viewport: DetailViewport?
        if let opened = state.openedJob {
            viewport = JobScreen.draw(opened, context: context, into: &buffer, in: rows[2])
        } else {
            viewport = drawScreen(context, into: &buffer, in: rows[2])
        }
        Chrome.drawFooter(context, into: &buffer, in: rows[3])
        if let confirmation = state.confirmation {
            // The question outranks help: it is what the next `y` answers.
            ConfirmationDialog.draw(confirmation, context, into: &buffer, in: buffer.bounds)
        } else if state.contexts.pickerCursor != nil {
            ContextPickerOverlay.draw(context, into: &buffer, in: Rect(x: 0, y: 1, width: buffer.width, height: buffer.height - 1 - footerRows))
        } else if state.showHelp {
            // Help is the pane on top now: its room is what `j`/`k` scroll (Reducer handleHelpKey).
            viewport = HelpOverlay.draw(context, into: &buffer, in: Rect(x: 0, y: 1, width: buffer.width, height: buffer.height - 1 - footerRows))
        }
        if buffer.glyphs.isASCII { ASCIIFallback.apply(to: &buffer) }
        return viewport
    }

    /// The screen of the tab that is lit; only the DLQ's job level has a pane that scrolls.
    private static func drawScreen(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) -> DetailViewport? {
        switch context.state.screen {
        case .overview:
            if context.state.contexts.allView { AllContextsScreen.draw(context, into: &buffer, in: rect) }
            else { OverviewScreen.draw(context, into: &buffer, in: rect) }
        case .queue: QueueDetailScreen.draw(context, into: &buffer, in: rect)
        case .dlq: return DLQScreen.draw(context, into: &buffer, in: rect)
        case .leads: LeadsScreen.draw(context, into: &buffer, in: rect)
        case .workers: WorkersScreen.draw(context, into: &buffer, in: rect)
        case .audit: AuditScreen.draw(context, into: &buffer, in: rect)
        case .schedules: SchedulesScreen.draw(context, into: &buffer, in: rect)
        case .log: LogScreen.draw(context, into: &buffer, in: rect)
        case .jobs: JobsScreen.draw(context, into: &buffer, in: rect)
        case .timeline: TimelineScreen.draw(context, into: &buffer, in: rect)
        }
        return nil
    }
}

/// On an ASCII terminal (`LANG=C`, `TERM=dumb`-like) every cell must be ASCII, including data:
/// a queue named "webhooks-日本" or an error message with "—" would otherwise arrive as bytes the
/// terminal shows as garbage and that can shift the rest of the row. Common punctuation gets a
/// look-alike; anything else becomes "?" per column, so the row keeps its width.
enum ASCIIFallback {
    static let lookalikes: [Character: Character] = [
        "—": "-", "–": "-", "…": ".", "·": "-", "›": ">", "‹": "<", "•": "*", "×": "x",
        "‘": "'", "’": "'", "“": "\"", "”": "\"", "→": ">", "←": "<", "↑": "^", "↓": "v", "\u{00A0}": " ",
    ]

    static func apply(to buffer: inout ScreenBuffer) {
        for y in 0..<buffer.height {
            var x = 0
            while x < buffer.width {
                let cell = buffer[x, y]
                guard !cell.isContinuation, !cell.character.isASCII else { x += 1; continue }
                let wide = x + 1 < buffer.width && buffer[x + 1, y].isContinuation
                let replacement = lookalikes[cell.character] ?? "?"
                buffer.put(replacement, x: x, y: y, style: cell.style)
                if wide { buffer.put("?", x: x + 1, y: y, style: cell.style) }
                x += wide ? 2 : 1
            }
        }
    }
}
