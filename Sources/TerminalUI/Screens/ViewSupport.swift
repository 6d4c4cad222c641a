import Foundation
import QueueStore

/// What every screen needs to draw: the state, and how much room the terminal gives.
struct ScreenContext {
    let state: DashboardState
    let size: SizeClass
    let glyphs: GlyphSet

    var compact: Bool { size.isCompact }
    var now: Date { state.now }

    /// "4m", "2d4h": the age of `date` at the state's `now`; "-" when there is no date.
    func age(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Format.age(seconds: Format.clampedInt(now.timeIntervalSince(date).rounded(.down)))
    }

    /// Whole seconds from `now` until `date` (0 when it is past); "-" when there is no date.
    func countdown(to date: Date?) -> String {
        guard let date else { return "-" }
        return Format.duration(seconds: max(0, Format.clampedInt(date.timeIntervalSince(now).rounded(.up))))
    }

    /// " · " or " - ": separates items in titles and status text.
    var dot: String { " \(glyphs.separator) " }
    /// "—" or "-": the dash in sentences like "disconnected — retrying in 4s".
    var dash: String { glyphs.isASCII ? "-" : "—" }
    /// "…" or "...": a trailing ellipsis in prose ("connecting…"), not a cut.
    var ellipsis: String { glyphs.isASCII ? "..." : "…" }
    /// "›" or ">": between levels of a breadcrumb.
    var crumb: String { glyphs.isASCII ? " > " : " › " }

    /// A titled frame, or on a compact terminal no frame (its two rows are worth more as data).
    /// Returns the area to draw the content in.
    func section(_ title: String, in rect: Rect, into buffer: inout ScreenBuffer, framed: Bool? = nil) -> Rect {
        let useFrame = framed ?? (!compact && rect.height >= 4 && rect.width >= 10)
        return useFrame ? Box(title: title).draw(into: &buffer, in: rect) : rect
    }

    /// A one-line message centred in `rect` for a screen with nothing to list yet or at all.
    func message(_ text: String, in rect: Rect, into buffer: inout ScreenBuffer, style: Style = .muted) {
        guard !rect.isEmpty else { return }
        let lines = TextWrap.wrap(text, width: rect.width).prefix(rect.height)
        let top = rect.y + (rect.height - lines.count) / 2
        for (i, line) in lines.enumerated() {
            buffer.write(line, in: Rect(x: rect.x, y: top + i, width: rect.width, height: 1), alignment: .center, style: style)
        }
    }

    /// The health snapshot, or nil after saying in `rect` why there is none yet.
    func snapshot(orExplainIn rect: Rect, into buffer: inout ScreenBuffer) -> HealthSnapshot? {
        if let snapshot = state.snapshot { return snapshot }
        message(noSnapshotText, in: rect, into: &buffer)
        return nil
    }

    /// What to show instead of a table when there is no snapshot yet: the operator must be able
    /// to tell "still connecting" from "unreachable" from "nothing there".
    var noSnapshotText: String {
        if case .disconnected(let reason, _) = state.connection {
            return "No data yet: the database is unreachable (\(reason))."
        }
        return "connecting\(ellipsis)"
    }
}

enum ViewText {
    /// The short form of a job id that operators read aloud: its random tail (ShortJobID).
    static func shortID(_ id: UUID) -> String { ShortJobID.of(id) }

    /// "03:12:07" in UTC, with "11-21 " in front when `date` is not on `now`'s UTC day.
    static func clock(_ date: Date, now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.month, .day, .hour, .minute, .second], from: date)
        let time = pad(c.hour) + ":" + pad(c.minute) + ":" + pad(c.second)
        return calendar.isDate(date, inSameDayAs: now) ? time : pad(c.month) + "-" + pad(c.day) + " " + time
    }

    private static func pad(_ value: Int?) -> String {
        let v = value ?? 0
        return v < 10 ? "0\(v)" : "\(v)"
    }

    /// A latency in milliseconds, "-" when no job finished (an idle queue has no percentiles;
    /// "0ms" would claim instant jobs).
    static func latency(_ ms: Double?) -> String { ms.map { Format.duration(milliseconds: $0) } ?? "-" }

    /// A setting's length of time, short and exact: "10s", "1m", "15m", "2h", "90s".
    static func span(_ seconds: Int) -> String {
        if seconds >= 3600 && seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds >= 60 && seconds % 60 == 0 { return "\(seconds / 60)m" }
        if seconds < 60 { return "\(seconds)s" }
        return Format.duration(seconds: seconds)
    }

    /// A rate as a percentage with one decimal below 10 % ("2.3%"), where the difference matters.
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "-" }
        let p = fraction * 100
        return p < 9.95 && p != p.rounded() ? String(format: "%.1f%%", p) : "\(Int(p.rounded()))%"
    }

    /// An exact count with thousands separators: "120,000" (progress must not round).
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func count(_ value: Int64) -> String { Format.count(Format.clampedInt(Double(value))) }

    /// A message on one line: newlines and tabs in error texts would break a table row.
    static func oneLine(_ text: String?) -> String {
        guard let text else { return "" }
        return text.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
    }

    /// `[#####.....] 42%` as text, for a table cell of `width` columns.
    static func progress(_ fraction: Double, width: Int, glyphs: GlyphSet) -> String {
        let percent = Format.percent(fraction)
        let barWidth = max(1, width - 7)  // "[", "] " and a 4-column percentage
        let filled = ProgressBar.filledCells(fraction: fraction, width: barWidth)
        return "[" + String(repeating: glyphs.progressFilled, count: filled)
            + String(repeating: glyphs.progressEmpty, count: barWidth - filled) + "] "
            + String(repeating: " ", count: max(0, 4 - percent.count)) + percent
    }
}

/// Label–value lines ("pending      1.2k"), labels in one column so values line up.
struct Pairs {
    var items: [(label: String, value: String, style: Style)] = []

    mutating func add(_ label: String, _ value: String, _ style: Style = .normal) {
        items.append((label, value, style))
    }

    func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let labelWidth = min(items.map { DisplayWidth.of($0.label) }.max() ?? 0, rect.width / 2)
        for (i, item) in items.prefix(rect.height).enumerated() {
            let y = rect.y + i
            buffer.write(item.label, at: Point(x: rect.x, y: y), style: .muted, maxWidth: labelWidth)
            buffer.write(item.value, at: Point(x: rect.x + labelWidth + 1, y: y), style: item.style,
                         maxWidth: rect.width - labelWidth - 1)
        }
    }
}
