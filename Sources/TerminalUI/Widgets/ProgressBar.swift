/// `label [██████░░░░░░] 42%` in one row. The label gets up to a third of the width, the
/// percentage is always shown, and the bar takes the rest; on very narrow rows the label goes.
public struct ProgressBar: Sendable {
    public var fraction: Double
    public var label: String
    public var style: Style
    /// A fixed label width, so the bars of several rows line up (nil: the label's own width).
    public var labelWidth: Int?

    public init(fraction: Double, label: String = "", labelWidth: Int? = nil, style: Style = .role(.bar)) {
        self.fraction = fraction
        self.label = label
        self.labelWidth = labelWidth
        self.style = style
    }

    /// Whole cells filled out of `width`. Rounded down: the bar is full only when done.
    public static func filledCells(fraction: Double, width: Int) -> Int {
        guard fraction.isFinite, width > 0 else { return 0 }
        let clamped = min(max(fraction, 0), 1)
        if clamped >= 1 { return width }
        return min(width - 1, Int((clamped * Double(width)).rounded(.down)))
    }

    public func draw(into buffer: inout ScreenBuffer, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let row = rect.row(0)
        let percent = Format.percent(fraction)
        let percentWidth = 5
        var x = row.x
        if !label.isEmpty && row.width >= 24 {
            let labelWidth = min(self.labelWidth ?? DisplayWidth.of(label), row.width / 3)
            buffer.write(label, in: Rect(x: x, y: row.y, width: labelWidth, height: 1))
            x += labelWidth + 1
        }
        let barWidth = row.maxX - x - percentWidth - 2
        if barWidth >= 1 {
            let glyphs = buffer.glyphs
            let filled = Self.filledCells(fraction: fraction, width: barWidth)
            buffer.put("[", x: x, y: row.y, style: .muted)
            for i in 0..<barWidth {
                if i < filled {
                    buffer.put(glyphs.progressFilled, x: x + 1 + i, y: row.y, style: style)
                } else {
                    buffer.put(glyphs.progressEmpty, x: x + 1 + i, y: row.y, style: .muted)
                }
            }
            buffer.put("]", x: x + 1 + barWidth, y: row.y, style: .muted)
            x += barWidth + 2
        }
        buffer.write(percent, in: Rect(x: x, y: row.y, width: row.maxX - x, height: 1), alignment: .right)
    }
}
