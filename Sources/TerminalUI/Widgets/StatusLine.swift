/// One key hint in the footer: `r requeue`.
public struct KeyHint: Sendable, Hashable {
    public var key: String
    public var label: String

    public init(_ key: String, _ label: String) {
        self.key = key
        self.label = label
    }
}

/// The footer: key hints on the left, status on the right ("READ-ONLY  3s ago  every 2s").
///
/// The status wins when space is short (it carries the state the operator must not miss), and
/// hints are dropped whole from the end rather than cut mid-word.
public struct StatusLine: Sendable {
    public var hints: [KeyHint]
    public var status: String
    public var statusStyle: Style

    public init(hints: [KeyHint], status: String = "", statusStyle: Style = .normal) {
        self.hints = hints
        self.status = status
        self.statusStyle = statusStyle
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = rect.row(0)
        buffer.fill(row)
        let statusText = ScreenBuffer.truncate(status, toWidth: row.width, ellipsis: buffer.glyphs.ellipsis)
        let statusWidth = DisplayWidth.of(statusText)
        if statusWidth > 0 {
            buffer.write(statusText, at: Point(x: row.maxX - statusWidth, y: row.y), style: statusStyle)
        }
        let hintLimit = row.maxX - statusWidth - (statusWidth > 0 ? 2 : 0)
        var x = row.x
        for hint in hints {
            let width = DisplayWidth.of(hint.key) + 1 + DisplayWidth.of(hint.label)
            guard x + width <= hintLimit else { break }
            x += buffer.write(hint.key, at: Point(x: x, y: row.y), style: .role(.accent, .bold))
            x += 1
            x += buffer.write(hint.label, at: Point(x: x, y: row.y), style: .muted)
            x += 2
        }
    }
}
