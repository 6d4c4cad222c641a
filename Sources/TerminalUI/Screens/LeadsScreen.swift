import Foundation
import QueueStore

/// Lead migrations: a card each with a progress bar, rate, ETA and status; under the list,
/// the selected run's details (who started it, when, and its error if it failed).
enum LeadsScreen {
    static func draw(_ context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard let snapshot = context.snapshot(orExplainIn: rect, into: &buffer) else { return }
        let migrations = state.visibleMigrations
        let focusedError = state.focusedMigration?.error.map { errorLines($0, width: valueWidth(rect)) } ?? []
        let detailRows = context.compact || migrations.isEmpty ? 0 : 6 + max(0, focusedError.count - 1)
        let parts = Layout.vertical(rect, [.flexible, .fixed(detailRows)])
        let active = migrations.filter { $0.status.isActive }.count
        let area = context.section("Lead migrations (\(active) active, \(migrations.count - active) ended in the last hour)",
                                   in: parts[0], into: &buffer)
        if snapshot.leadMigrations.isEmpty {
            context.message("No lead migration is running or ended in the last hour.", in: area, into: &buffer)
            return
        }
        drawList(migrations, context: context, into: &buffer, in: area)
        if detailRows > 0, let m = state.focusedMigration {
            let box = context.section("Run \(m.runName)", in: parts[1], into: &buffer).inset(dx: 1, dy: 0)
            details(m, context: context, valueWidth: valueWidth(rect)).draw(into: &buffer, in: box)
        }
    }

    /// Each run as a small card: name and status, a full-width progress bar, then the figures.
    /// A table row would leave the bar a dozen cells on an 80-column terminal.
    static func drawList(_ migrations: [LeadMigration], context: ScreenContext, into buffer: inout ScreenBuffer, in rect: Rect) {
        let state = context.state
        guard !migrations.isEmpty else {
            context.message("No migration matches /\(state.activeFilter)", in: rect, into: &buffer)
            return
        }
        let rowsPer = context.compact ? 2 : 4
        let fits = max(1, rect.height / rowsPer)
        let first = Table.scrollOffset(previous: 0, selected: state.cursorRow, visibleRows: fits, rowCount: migrations.count)
        for (slot, index) in (first..<min(migrations.count, first + fits)).enumerated() {
            let m = migrations[index]
            let top = rect.y + slot * rowsPer
            let selected = index == state.cursorRow
            let base: Style = selected ? .selected : (m.status.isActive ? .normal : .muted)
            let card = Rect(x: rect.x, y: top, width: rect.width, height: min(rowsPer, context.compact ? 2 : 3))
            buffer.fill(card, style: base)
            if selected { buffer.put(context.glyphs.cursor, x: rect.x, y: top, style: base) }
            let inner = Rect(x: rect.x + 2, y: top, width: rect.width - 3, height: card.height)
            let status = statusLine(m, context: context)
            let statusWidth = min(DisplayWidth.of(status), inner.width / 2)
            buffer.write(m.runName, at: Point(x: inner.x, y: top), style: base.adding(.bold), maxWidth: inner.width - statusWidth - 1)
            var statusStyle = Self.statusStyle(m.status)
            if selected { statusStyle.background = .selected }
            buffer.write(status, in: Rect(x: inner.maxX - statusWidth, y: top, width: statusWidth, height: 1),
                         alignment: .right, style: statusStyle)
            let label = "\(ViewText.grouped(m.moved))/\(ViewText.grouped(m.total))"
            // The bar keeps its colour on the selected card too: drawn in the selection style, a
            // full bar reads as an empty one.
            ProgressBar(fraction: m.fraction, label: context.compact ? label : "", style: .role(.bar))
                .draw(into: &buffer, in: inner.row(1))
            if !context.compact {
                buffer.write(figures(m, context: context), in: inner.row(2), style: base)
            }
        }
    }

    /// "running · last batch 2s ago", or when it ended.
    static func statusLine(_ m: LeadMigration, context: ScreenContext) -> String {
        if !m.status.isActive, let ended = m.finishedAt ?? m.cancelledAt {
            return m.status.rawValue + context.dot + "ended \(context.age(ended)) ago"
        }
        let last = m.lastBatchAt.map { "last batch \(context.age($0)) ago" } ?? "no batch yet"
        return m.status.rawValue + context.dot + last
    }

    /// The detail box's value column: the screen less frame, padding and the "last batch" label.
    static func valueWidth(_ rect: Rect) -> Int { rect.width - 4 - 11 }

    /// A run's error in up to 3 lines of `width` columns (the detail box's value column).
    static func errorLines(_ error: String, width: Int) -> [String] {
        let lines = TextWrap.wrap(ViewText.oneLine(error), width: max(20, width))
        return lines.count <= 3 ? lines : Array(lines.prefix(2)) + [ScreenBuffer.truncate(lines[2...].joined(separator: " "), toWidth: max(20, width))]
    }

    /// "41,200 of 120,000 moved · 78,800 left · 57/s · ETA 22m54s".
    static func figures(_ m: LeadMigration, context: ScreenContext) -> String {
        let rate = m.rate(now: context.now)
        return ["\(ViewText.grouped(m.moved)) of \(ViewText.grouped(m.total)) moved",
                "\(ViewText.grouped(m.remaining)) left",
                rate.map { Format.rate(perSecond: $0) } ?? "- /s",
                "ETA \(eta(m, rate: rate))"].joined(separator: context.dot)
    }

    /// Time left at the run's own pace; "-" when it has ended or has not moved anything yet.
    static func eta(_ m: LeadMigration, rate: Double?) -> String {
        guard m.status.isActive else { return "-" }
        guard m.remaining > 0 else { return "0s" }
        guard let rate, rate > 0 else { return "-" }
        return Format.duration(seconds: Format.clampedInt((Double(m.remaining) / rate).rounded(.up)))
    }

    static func statusStyle(_ status: BulkOperationStatus) -> Style {
        switch status {
        case .running: return .role(.ok)
        case .pending: return .accent
        case .completed: return .muted
        case .cancelled: return .warn
        case .failed: return .error
        }
    }

    static func details(_ m: LeadMigration, context: ScreenContext, valueWidth: Int) -> Pairs {
        var p = Pairs()
        let dot = context.dot
        p.add("run", "\(m.runID.uuidString.lowercased())\(dot)operation \(m.operationID)")
        p.add("started", (m.startedAt.map { "\(context.age($0)) ago" } ?? "not yet")
              + dot + "by \(m.createdBy ?? "unknown")" + dot + "\(m.batches) batches of \(m.batchSize)")
        var last = m.lastBatchAt.map { "\(context.age($0)) ago" } ?? "none yet"
        if let count = m.lastBatchCount { last += ", \(count) leads" }
        p.add("last batch", last)
        if let error = m.error {
            for (i, line) in errorLines(error, width: valueWidth).enumerated() { p.add(i == 0 ? "error" : "", line, .error) }
        } else if let ended = m.finishedAt ?? m.cancelledAt {
            p.add("ended", "\(context.age(ended)) ago (\(m.status.rawValue))")
        }
        return p
    }
}
