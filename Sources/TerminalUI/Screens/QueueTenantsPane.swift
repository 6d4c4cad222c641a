import Foundation
import QueueStore

/// Queue detail's tenant side (migration 0010): the caps per tenant as a setting, expired jobs
/// as a figure, and the "Top tenants by backlog" table — which shop's flood is the backlog, and
/// whether the caps are holding it back.
enum QueueTenantsPane {
    static let title = "Top tenants by backlog"
    static let emptyText = "no tenant keys in this queue"

    /// The report loads with the screen, a moment after the snapshot: until then say so rather
    /// than show "none", which would be a claim.
    static func loadingText(_ context: ScreenContext) -> String { "loading tenants\(context.ellipsis)" }

    /// "4 at a time · 5/s" per tenant, "none", or "…" until this queue's report has loaded.
    static func capsText(_ report: QueueTenantReport?, context: ScreenContext) -> String {
        guard let caps = report?.caps else { return context.ellipsis }
        let parts = [caps.concurrencyLimit.map { "\($0) at a time" }, caps.ratePerSecond.map { Format.rate(perSecond: $0) }]
            .compactMap { $0 }
        return parts.isEmpty ? "none" : parts.joined(separator: context.dot) + " each"
    }

    /// "3 in 1h · 41 in 24h", or "…" until this queue's report has loaded.
    static func expiredText(_ report: QueueTenantReport?, context: ScreenContext) -> String {
        guard let expired = report?.expired else { return context.ellipsis }
        return "\(ViewText.count(expired.lastHour)) in 1h\(context.dot)\(ViewText.count(expired.last24h)) in 24h"
    }

    /// A framed "Top tenants by backlog" section (unframed on a compact terminal), its table
    /// or its empty or loading state.
    static func draw(_ report: QueueTenantReport?, queue: QueueHealth, context: ScreenContext,
                     into buffer: inout ScreenBuffer, in rect: Rect) {
        let area = context.section(title, in: rect, into: &buffer, framed: context.compact ? false : nil)
        guard let report else {
            context.message(loadingText(context), in: area, into: &buffer)
            return
        }
        table(report, queue: queue, context: context).draw(into: &buffer, in: area)
    }

    /// Rows the compact layout gives the table: its header and up to three tenants, or one line
    /// saying there are none (or that they are loading).
    static func compactRows(_ report: QueueTenantReport?) -> Int {
        guard let report, !report.tenants.isEmpty else { return 1 }
        return 1 + min(3, report.tenants.count)
    }

    /// The compact form: no frame, and the empty and loading states as one labelled line.
    static func drawCompact(_ report: QueueTenantReport?, queue: QueueHealth, context: ScreenContext,
                            into buffer: inout ScreenBuffer, in rect: Rect) {
        guard let report, !report.tenants.isEmpty else {
            var line = Pairs()
            line.add("tenants", report == nil ? "loading\(context.ellipsis)" : emptyText, .muted)
            line.draw(into: &buffer, in: rect.inset(dx: 1, dy: 0))
            return
        }
        table(report, queue: queue, context: context).draw(into: &buffer, in: rect)
    }

    /// Tenant, pending, processing, oldest pending age. A tenant at its in-flight cap shows its
    /// processing count as a warning (the cap is what holds its backlog), and so does a wait past
    /// the queue's oldest-pending alert.
    static func table(_ report: QueueTenantReport, queue: QueueHealth, context: ScreenContext) -> Table {
        let cap = report.caps.concurrencyLimit
        let alertAfter = Double(queue.settings.oldestPendingAlertS)
        let rows = report.tenants.map { t -> TableRow in
            var styles: [Int: Style] = [:]
            if let cap, t.processing >= Int64(cap) { styles[2] = .warn }
            if let waited = t.oldestPendingSeconds, waited >= alertAfter { styles[3] = .warn }
            let oldest = t.oldestPendingSeconds.map { Format.age(seconds: Format.clampedInt($0.rounded(.down))) } ?? "-"
            return TableRow([ViewText.oneLine(t.tenant), ViewText.count(t.pending), ViewText.count(t.processing), oldest],
                            cellStyles: styles)
        }
        return Table(columns: [TableColumn("TENANT", minWidth: 8, flexible: true),
                               TableColumn("PENDING", alignment: .right), TableColumn("PROC", alignment: .right),
                               TableColumn("OLDEST", alignment: .right)],
                     rows: rows, emptyText: emptyText)
    }
}
